//! The cross-panel suite, once per panel, on SQLite and PostgreSQL.

use panelgate_tests::conformance_suite;

conformance_suite!(admin_api, panelgate_tests::AdminApiFixture);
conformance_suite!(openadmin, panelgate_tests::OpenAdminFixture);
conformance_suite!(spanel, panelgate_tests::SpanelFixture);
conformance_suite!(installatron, panelgate_tests::InstallatronFixture);
