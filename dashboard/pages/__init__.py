"""The dashboard's pages (hypermedia for people, served under ``/``)."""
