//! [`sip_proto::message`], re-exported whole, plus fresh branches, tags and Call-IDs drawn from
//! this thread's random generator.
//!
//! The proto crate takes its randomness from the caller ([`new_branch_with`] and the others take
//! a `&mut fastrand::Rng`) so that tests can replay it; this crate, the one at the edge that
//! owns sockets and the process's entropy, offers the unseeded forms for code that only needs
//! the values to be fresh.

pub use sip_proto::message::*;

/// A fresh Via branch (`z9hG4bK` + 16 random hex digits) from this thread's generator.
pub fn new_branch() -> String {
    new_branch_with(&mut fastrand::Rng::new())
}

/// A fresh From/To tag from this thread's generator.
pub fn new_tag() -> String {
    new_tag_with(&mut fastrand::Rng::new())
}

/// A fresh Call-ID at `host` from this thread's generator.
pub fn new_call_id(host: &str) -> String {
    new_call_id_with(&mut fastrand::Rng::new(), host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_values_have_the_proto_forms_and_differ() {
        let (a, b) = (new_branch(), new_branch());
        assert!(a.starts_with("z9hG4bK") && a.len() == 7 + 16);
        assert_ne!(a, b);
        assert_eq!(new_tag().len(), 12);
        assert_ne!(new_tag(), new_tag());
        assert!(new_call_id("trunk.example").ends_with("@trunk.example"));
    }
}
