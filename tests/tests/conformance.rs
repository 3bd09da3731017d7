//! The canonical conformance suite, once per panel, on SQLite and PostgreSQL.

use panelgate_tests::{
    AdminApiFixture, InstallatronFixture, OpenAdminFixture, SpanelFixture, conformance_suite,
};

conformance_suite!(admin_api, AdminApiFixture);
conformance_suite!(openadmin, OpenAdminFixture);
conformance_suite!(spanel, SpanelFixture);
conformance_suite!(installatron, InstallatronFixture);
