//! The canonical conformance suite, once per panel, on SQLite and PostgreSQL.

panelgate_tests::every_panel!(conformance_suite);
