//! Byte classes of the URI and header grammars (RFC 3261 §25.1), as 256-entry tables.

/// A 256-entry membership table: alphanumerics plus `extra` (one load per byte instead of a scan).
const fn class(extra: &[u8]) -> [bool; 256] {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = (c as u8).is_ascii_alphanumeric();
        c += 1;
    }
    let mut i = 0;
    while i < extra.len() {
        t[extra[i] as usize] = true;
        i += 1;
    }
    t
}

static USER: [bool; 256] = class(b"-_.!~*'()&=+$,;?/");
static PASSWORD: [bool; 256] = class(b"-_.!~*'()&=+$,");
static PARAM: [bool; 256] = class(b"-_.!~*'()[]/:&+$");
static HNV: [bool; 256] = class(b"-_.!~*'()[]/?:+$=");
static URIC: [bool; 256] = class(b"-_.!~*'();/?:@&=+$,%#[]");
/// Host name characters (a letter or digit, `-`, `.`).
pub(super) static HOST: [bool; 256] = class(b"-.");
/// Host name label characters (a letter or digit, `-`).
static LABEL: [bool; 256] = class(b"-");
static TOKEN: [bool; 256] = class(b"-.!%*_+`'~");
/// `word` characters (RFC 3261 §25.1) and `@`: a Call-ID.
static WORD_AT: [bool; 256] = class(b"-.!%*_+`'~()<>:\\\"/[]?{}@");
/// `token` characters and `[`, `]`, `:` (header parameter values such as `received=[::1]`).
static TOKEN_BRACKET: [bool; 256] = class(b"-.!%*_+`'~[]:");

pub(crate) fn is_user_char(b: u8) -> bool {
    USER[b as usize]
}
pub(super) fn is_password_char(b: u8) -> bool {
    PASSWORD[b as usize]
}
pub(crate) fn is_param_char(b: u8) -> bool {
    PARAM[b as usize]
}
pub(super) fn is_hnv_char(b: u8) -> bool {
    HNV[b as usize]
}
pub(super) fn is_uric(b: u8) -> bool {
    URIC[b as usize]
}
/// Host name label characters (a letter or digit, `-`).
pub(super) fn is_label_char(b: u8) -> bool {
    LABEL[b as usize]
}
/// RFC 3261 `token` characters.
pub(crate) fn is_token_char(b: u8) -> bool {
    TOKEN[b as usize]
}
/// RFC 3261 `word` characters and `@` (a Call-ID).
pub(crate) fn is_word_or_at(b: u8) -> bool {
    WORD_AT[b as usize]
}
/// `token` characters and `[`, `]`, `:`.
pub(crate) fn is_token_or_bracket(b: u8) -> bool {
    TOKEN_BRACKET[b as usize]
}
