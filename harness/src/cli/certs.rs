//! `certs`: the lab CA and the gateways' certificates, and, with `--sbc`, a certificate for a
//! system under test issued by the same CA, so an SBC can be certified end to end with one CA.

use std::path::PathBuf;

use clap::Args;

use crate::exit::EXIT_PASSED;
use crate::run;

/// `certs` options.
#[derive(Debug, Args)]
pub struct CertsArgs {
    /// Output folder (ca.pem, ca.key, gw1.pem/.key, gw2.pem/.key; with --sbc also sbc.pem/.key).
    #[arg(long, default_value = "out/certs")]
    pub out: PathBuf,
    /// Issue a certificate for a system under test with this name (its TLS server name, e.g.
    /// `sbc.lab.example`), from the CA in --out (made there first if absent).
    #[arg(long, value_name = "NAME")]
    pub sbc: Option<String>,
    /// More subjectAltNames for the --sbc certificate (host names or IP addresses).
    #[arg(long = "san", value_name = "NAME", requires = "sbc")]
    pub sans: Vec<String>,
}

/// `certs`.
pub fn certs_cmd(a: CertsArgs) -> anyhow::Result<u8> {
    let Some(sbc) = &a.sbc else {
        run::write_gateway_certs(&a.out)?;
        for (name, _) in run::GATEWAY_HOSTS {
            for ext in ["pem", "key"] {
                crate::stdout::println_quietly(
                    &a.out.join(format!("{name}.{ext}")).display().to_string(),
                );
            }
        }
        crate::stdout::println_quietly(&a.out.join("ca.pem").display().to_string());
        crate::stdout::println_quietly(&a.out.join("ca.key").display().to_string());
        return Ok(EXIT_PASSED);
    };
    let mut names = vec![sbc.as_str()];
    names.extend(a.sans.iter().map(String::as_str));
    let (cert, key) = run::embedded::issue_sbc_cert(&a.out, &names)?;
    crate::stdout::println_quietly(&cert.display().to_string());
    crate::stdout::println_quietly(&key.display().to_string());
    crate::stdout::println_quietly(&a.out.join("ca.pem").display().to_string());
    Ok(EXIT_PASSED)
}
