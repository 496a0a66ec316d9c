//! End-to-end tests for e911-harness live in `tests/tests/`: real TLS sockets on 127.0.0.1
//! (port 0), certificates generated at test time, the embedded gateways and the originator
//! running in-process. This library holds the helpers they share.

pub mod kamailio;
pub mod peers;
pub mod rtpengine;
pub mod sbc;
pub mod tools;

use harness::run::{Embedded, RunContext};

/// A run context over the embedded gateways, as `certify` builds it.
pub fn context(embedded: &Embedded) -> RunContext<'_> {
    let mut ctx = embedded.context("test: embedded gateways".into());
    // certify carries media unless --no-media.
    ctx.uac.media = true;
    ctx
}

/// Runs `scenarios` once against freshly started embedded gateways over TLS (stopped after),
/// as `certify` does.
pub async fn run_embedded(scenarios: &[scenarios::Scenario]) -> Vec<reports::ScenarioReport> {
    let embedded = Embedded::start(sip::transport::TransportKind::Tls)
        .await
        .expect("embedded gateways start");
    let ctx = context(&embedded);
    let reports = harness::run::run_scenarios(scenarios, &ctx, &|| false, |_| {}).await;
    embedded.shutdown().await;
    reports
}
