//! The audio the harness sends and listens for, in G.711 µ-law (PCMU, ITU-T G.711) at 8 kHz,
//! 20 ms (160 samples) per packet:
//! - comfort audio: a quiet 400 Hz tone, so a stream is never digital silence;
//! - the 933 read-back: the caller's number as DTMF digits (ITU-T Q.23 pairs), 60 ms of tone
//!   and 40 ms of pause per digit, then the comfort tone;
//! - on the listening side, [`Listener`]: how long the audio carried energy, and the DTMF
//!   digits heard (Goertzel filters on each 20 ms frame).
//!
//! Pure and deterministic.

/// Samples per 20 ms packet at 8 kHz.
pub const FRAME: usize = 160;

const BIAS: i32 = 0x84;
const CLIP: i32 = 32_635;

/// One linear sample to µ-law.
pub fn ulaw_encode(sample: i16) -> u8 {
    let mut s = i32::from(sample);
    let sign = if s < 0 {
        s = -s;
        0x80
    } else {
        0
    };
    s = s.min(CLIP) + BIAS;
    let exponent = (7 - (s.leading_zeros() as i32 - 17)).clamp(0, 7);
    let mantissa = (s >> (exponent + 3)) & 0x0f;
    !(sign | (exponent << 4) as u8 | mantissa as u8)
}

/// One µ-law byte to a linear sample.
pub fn ulaw_decode(b: u8) -> i16 {
    let u = !b;
    let exponent = i32::from((u >> 4) & 0x07);
    let mantissa = i32::from(u & 0x0f);
    let magnitude = (((mantissa << 3) + BIAS) << exponent) - BIAS;
    let v = if u & 0x80 != 0 { -magnitude } else { magnitude };
    v as i16
}

/// DTMF (low, high) frequencies of a digit.
fn dtmf(d: char) -> Option<(f64, f64)> {
    const LOW: [f64; 4] = [697.0, 770.0, 852.0, 941.0];
    const HIGH: [f64; 3] = [1209.0, 1336.0, 1477.0];
    let (r, c) = match d {
        '1' => (0, 0),
        '2' => (0, 1),
        '3' => (0, 2),
        '4' => (1, 0),
        '5' => (1, 1),
        '6' => (1, 2),
        '7' => (2, 0),
        '8' => (2, 1),
        '9' => (2, 2),
        '*' => (3, 0),
        '0' => (3, 1),
        '#' => (3, 2),
        _ => return None,
    };
    Some((LOW[r], HIGH[c]))
}

const DIGITS: &str = "123456789*0#";

/// What a sender plays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Program {
    /// The quiet comfort tone, throughout.
    Comfort,
    /// These DTMF digits first (others are skipped), then the comfort tone.
    Digits(String),
}

/// Frames of tone and of pause per digit.
const TONE_FRAMES: u64 = 3;
const PAUSE_FRAMES: u64 = 2;

impl Program {
    /// The read-back of `number`: its digits (a leading `+` and separators dropped).
    pub fn readback(number: &str) -> Program {
        Program::Digits(number.chars().filter(|c| dtmf(*c).is_some()).collect())
    }

    /// How long the digits take to play.
    pub fn digits_ms(&self) -> u64 {
        match self {
            Program::Comfort => 0,
            Program::Digits(d) => d.len() as u64 * (TONE_FRAMES + PAUSE_FRAMES) * 20,
        }
    }

    /// The µ-law payload of frame `n` (from 0) into `out` (160 bytes).
    pub fn frame(&self, n: u64, out: &mut [u8; FRAME]) {
        let t0 = n as f64 * FRAME as f64;
        let tones = match self {
            Program::Digits(d) => {
                let per = TONE_FRAMES + PAUSE_FRAMES;
                let i = usize::try_from(n / per).unwrap_or(usize::MAX);
                match d.chars().nth(i) {
                    Some(c) if n % per < TONE_FRAMES => {
                        dtmf(c).map(|(l, h)| [(l, 6000.0), (h, 6000.0)])
                    }
                    Some(_) => Some([(0.0, 0.0), (0.0, 0.0)]),
                    None => None,
                }
            }
            Program::Comfort => None,
        }
        .unwrap_or([(400.0, 300.0), (0.0, 0.0)]);
        for (i, o) in out.iter_mut().enumerate() {
            let t = (t0 + i as f64) / 8000.0;
            let v: f64 = tones
                .iter()
                .map(|(f, a)| a * (2.0 * std::f64::consts::PI * f * t).sin())
                .sum();
            *o = ulaw_encode(v as i16);
        }
    }
}

/// Goertzel power of `f` over the samples.
fn goertzel(samples: &[f64], f: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * f / 8000.0;
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0, 0.0);
    for x in samples {
        let s = x + coeff * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    s1 * s1 + s2 * s2 - coeff * s1 * s2
}

/// RMS level (linear) above which a frame counts as audio: about -40 dBm0, above the comfort
/// tone's -45 dBm0 and far above digital silence.
const AUDIBLE_RMS: f64 = 350.0;

/// What a receiver heard.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listener {
    /// Milliseconds of frames louder than the comfort tone.
    pub audible_ms: u64,
    /// DTMF digits heard, in order (one per tone burst).
    pub digits: String,
    last: Option<char>,
}

impl Listener {
    /// Listens to one µ-law payload (any length; 160 bytes normally).
    pub fn on_ulaw(&mut self, payload: &[u8]) {
        if payload.is_empty() || payload.len() > 4 * FRAME {
            return;
        }
        // Decoded on the stack: this runs for every packet of every call.
        let mut decoded = [0f64; 4 * FRAME];
        let samples = &mut decoded[..payload.len()];
        for (s, b) in samples.iter_mut().zip(payload) {
            *s = f64::from(ulaw_decode(*b));
        }
        let samples = &*samples;
        let energy: f64 = samples.iter().map(|s| s * s).sum::<f64>();
        let rms = (energy / samples.len() as f64).sqrt();
        let loud = rms > AUDIBLE_RMS;
        if loud {
            self.audible_ms += payload.len() as u64 / 8;
        }
        let heard = loud.then(|| detect(samples, energy)).flatten();
        if heard.is_some() && heard != self.last {
            self.digits.extend(heard);
        }
        self.last = heard;
    }
}

/// The DTMF digit in a frame, if one pair of tones carries most of its energy.
fn detect(samples: &[f64], energy: f64) -> Option<char> {
    let n = samples.len() as f64;
    let low = [697.0, 770.0, 852.0, 941.0].map(|f| goertzel(samples, f));
    let high = [1209.0, 1336.0, 1477.0].map(|f| goertzel(samples, f));
    let (li, lp) = low
        .iter()
        .enumerate()
        .fold((0, 0.0), |a, (i, p)| if *p > a.1 { (i, *p) } else { a });
    let (hi, hp) = high
        .iter()
        .enumerate()
        .fold((0, 0.0), |a, (i, p)| if *p > a.1 { (i, *p) } else { a });
    // A pure tone of amplitude A over N samples has Goertzel power ~ (A N / 2)^2, and energy
    // A^2 N / 2: the pair must hold at least half of the frame's energy.
    let share = (lp + hp) * 2.0 / n / energy.max(1.0);
    (share > 0.5 && lp > 0.1 * hp && hp > 0.1 * lp)
        .then(|| DIGITS.chars().nth(li * 3 + hi))
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulaw_round_trips_within_its_quantisation() {
        for s in (-32_768i32..32_768).step_by(7) {
            let s = s as i16;
            let back = i32::from(ulaw_decode(ulaw_encode(s)));
            let err = (back - i32::from(s)).abs();
            assert!(
                err <= (i32::from(s).abs() / 16).max(8) + 128,
                "{s} -> {back}"
            );
        }
        assert_eq!(ulaw_encode(0), 0xff);
        assert_eq!(ulaw_decode(0xff), 0);
    }

    fn play(p: &Program, frames: u64) -> Listener {
        let mut l = Listener::default();
        let mut buf = [0u8; FRAME];
        for n in 0..frames {
            p.frame(n, &mut buf);
            l.on_ulaw(&buf);
        }
        l
    }

    #[test]
    fn the_readback_digits_are_heard_back() {
        let p = Program::readback("+1 (312) 555-0101*#");
        assert_eq!(p, Program::Digits("13125550101*#".into()));
        let l = play(&p, p.digits_ms() / 20 + 20);
        assert_eq!(l.digits, "13125550101*#");
        assert_eq!(l.audible_ms, 13 * 60);
    }

    #[test]
    fn the_comfort_tone_and_silence_are_neither_audio_nor_digits() {
        let l = play(&Program::Comfort, 100);
        assert_eq!((l.audible_ms, l.digits.as_str()), (0, ""));
        let mut silent = Listener::default();
        silent.on_ulaw(&[0xff; FRAME]);
        silent.on_ulaw(&[]);
        silent.on_ulaw(&[0u8; 5000]);
        assert_eq!(silent, Listener::default());
    }

    #[test]
    fn noise_is_audio_but_no_digit() {
        let mut rng = fastrand::Rng::with_seed(7);
        let mut l = Listener::default();
        for _ in 0..50 {
            let frame: Vec<u8> = (0..FRAME).map(|_| rng.u8(..)).collect();
            l.on_ulaw(&frame);
        }
        assert_eq!(l.audible_ms, 1000);
        assert_eq!(l.digits, "");
    }
}
