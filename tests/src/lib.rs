//! End-to-end tests for e911-harness live in `tests/tests/`: real TLS sockets on 127.0.0.1
//! (port 0), certificates generated at test time, the embedded gateways and the originator
//! running in-process. This library holds the helpers they share.

pub mod peers;

use std::time::Duration;

use harness::certify::{Embedded, RunContext, TRUNK_HOST};
use harness::uac::UacConfig;

/// A run context over the embedded gateways, as `certify` builds it.
pub fn context(embedded: &Embedded) -> RunContext<'_> {
    RunContext {
        targets: embedded.targets(),
        uac: UacConfig {
            tls: Some(embedded.client_tls.clone()),
            local_host: TRUNK_HOST.to_owned(),
            connect_timeout: Duration::from_secs(3),
        },
        gateways: Some(&embedded.gateways),
        topology: "test: embedded gateways".into(),
    }
}
