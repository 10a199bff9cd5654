//! A printed number and its precision: what "the same number, as printed" means.
//!
//! A reader's number carries its own precision: `0.4306` has 4 decimals (PyTorch's default),
//! `0.430646` has 6 (`torch.set_printoptions(precision=6)`), `4.3065e-01` is scientific with 4
//! (`sci_mode=True`), `0.43064647912979126` is a Python float (`.tolist()`, `.item()`),
//! `0.43064648` is NumPy's float32 display. A computed value *prints as* the reader's number when
//! written in the same notation with the same digits gives the same text: the book's 4 decimals
//! are one case of that rule.

/// How a number was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notation {
    /// Fixed point with this many decimals: `0.4306` (4), `1.0` (1).
    Fixed(usize),
    /// Scientific with this many decimals in the mantissa: `9.1476e-02` (4), NumPy's `1.e-05`
    /// and Python's `1e-05` (0).
    Scientific(usize),
    /// An integral float in PyTorch's integer form: `2.`, `-0.`.
    Integral,
    /// Digits without a point: an integer (`2360064`), or a float under `precision=0`.
    Integer,
    /// `inf`, `-inf` or `nan`.
    NonFinite,
}

/// The notation of a printed number, or `None` when `token` is not one: digits with an optional
/// sign, point and exponent, or `inf`, `-inf`, `nan`.
pub fn notation(token: &str) -> Option<Notation> {
    if matches!(token, "inf" | "-inf" | "nan" | "-nan") {
        return Some(Notation::NonFinite);
    }
    let unsigned = token.strip_prefix(['-', '+']).unwrap_or(token);
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e)),
        None => (unsigned, None),
    };
    let (whole, decimals) = match mantissa.split_once('.') {
        Some((w, d)) => (w, Some(d)),
        None => (mantissa, None),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !decimals.is_none_or(digits) {
        return None;
    }
    if let Some(e) = exponent {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        if e.is_empty() || !digits(e) {
            return None;
        }
        return Some(Notation::Scientific(decimals.map_or(0, str::len)));
    }
    Some(match decimals {
        None => Notation::Integer,
        Some("") => Notation::Integral,
        Some(d) => Notation::Fixed(d.len()),
    })
}

/// The value of a printed number (`None` when it is not one).
pub fn value(token: &str) -> Option<f64> {
    match (notation(token)?, token) {
        (Notation::NonFinite, "inf") => Some(f64::INFINITY),
        (Notation::NonFinite, "-inf") => Some(f64::NEG_INFINITY),
        (Notation::NonFinite, _) => Some(f64::NAN),
        _ => token.parse().ok(),
    }
}

/// `value` written in `notation`, the way Python (and so PyTorch and NumPy) writes it; `None`
/// when it cannot be written so (a non-integral value in integer form).
pub fn write(value: f64, notation: Notation) -> Option<String> {
    if !value.is_finite() {
        return Some(if value.is_nan() {
            "nan".to_string()
        } else if value < 0.0 {
            "-inf".to_string()
        } else {
            "inf".to_string()
        });
    }
    Some(match notation {
        Notation::Fixed(k) => format!("{value:.k$}"),
        Notation::Scientific(k) => crate::torch::print::sci(value, k),
        Notation::Integral if value.fract() != 0.0 => return None,
        Notation::Integral => format!("{value:.0}."),
        Notation::Integer => format!("{value:.0}"),
        Notation::NonFinite => return None, // a finite value is never written as inf or nan
    })
}

/// How far this crate's float32 arithmetic may be from PyTorch's: 10⁻⁶, relative above 1 and
/// absolute below, the tolerance its tests state against PyTorch's outputs (they sum in another
/// order, so the last bits differ). A number printed with more digits than that (`.tolist()`,
/// NumPy) is compared within it.
pub const TOLERANCE: f64 = 1e-6;

/// Whether `value` prints as `token`: some value within [`TOLERANCE`] of it prints exactly as
/// `token`, with the token's notation and digits. The values printing as `0.4306` are those
/// within half a unit of the last digit (10⁻⁴/2) of 0.4306; `2.` (PyTorch's integer form, all
/// values integral) is exactly 2; `inf`, `-inf` and `nan` are themselves.
///
/// ```
/// use ch03_attention::diagnose::number::prints_as;
///
/// let x = 0.430_636_912_584_304_8_f64; // this crate's float32 for 3.4.1's query[0]
/// assert!(prints_as(x, "0.4306"));
/// assert!(prints_as(x, "0.430637"));
/// assert!(prints_as(x, "4.3064e-01"));
/// assert!(prints_as(x, "0.4306369423866272")); // PyTorch's float32, one ulp away
/// assert!(!prints_as(x, "0.4307"));
/// assert!(!prints_as(x, "0.430640"));
/// ```
pub fn prints_as(value: f64, token: &str) -> bool {
    let (Some(notation), Some(printed)) = (notation(token), self::value(token)) else {
        return false;
    };
    let tolerance = TOLERANCE * value.abs().max(1.0);
    let distance = (value - printed).abs();
    match notation {
        Notation::NonFinite if printed.is_nan() => value.is_nan(),
        Notation::NonFinite => value == printed,
        Notation::Integral => distance <= tolerance,
        Notation::Integer => distance <= 0.5,
        Notation::Fixed(_) | Notation::Scientific(_) => {
            distance <= resolution(token) / 2.0 + tolerance
        }
    }
}

/// A scientific number as (mantissa without a trailing point, exponent value).
fn scientific_parts(text: &str) -> Option<(&str, i32)> {
    let (mantissa, exponent) = text.split_once(['e', 'E'])?;
    Some((mantissa.trim_end_matches('.'), exponent.parse().ok()?))
}

/// The width of the interval of values that print as `token`: 10⁻⁴ for `0.4306`, 10⁻⁶ for
/// `1.2346e-02`, 1 for `2360064`; 0 for `2.` (exactly 2), `inf` and `nan` (single values).
pub fn resolution(token: &str) -> f64 {
    match notation(token) {
        Some(Notation::Fixed(k)) => 10f64.powi(-(k as i32)),
        Some(Notation::Scientific(k)) => {
            let exponent = scientific_parts(token).map_or(0, |(_, e)| e);
            10f64.powi(exponent - k as i32)
        }
        Some(Notation::Integer) => 1.0,
        Some(Notation::Integral | Notation::NonFinite) | None => 0.0,
    }
}

/// The precision of a list of printed numbers, for the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Precision {
    /// Whether any number is in scientific notation (then `decimals` counts only those).
    pub scientific: bool,
    /// The fewest and most decimals; `None` when every number is whole (`2.`, `2360064`) or
    /// not finite.
    pub decimals: Option<(usize, usize)>,
}

impl Precision {
    /// The precision of `tokens`.
    pub fn of(tokens: &[String]) -> Precision {
        let notations: Vec<Notation> = tokens.iter().filter_map(|t| notation(t)).collect();
        let scientific = notations
            .iter()
            .any(|n| matches!(n, Notation::Scientific(_)));
        let decimals: Vec<usize> = notations
            .iter()
            .filter_map(|n| match (n, scientific) {
                (Notation::Scientific(k), true) | (Notation::Fixed(k), false) => Some(*k),
                _ => None,
            })
            .collect();
        let range = decimals.iter().min().zip(decimals.iter().max());
        Precision {
            scientific,
            decimals: range.map(|(lo, hi)| (*lo, *hi)),
        }
    }

    /// `with 4 decimals`, `with 1 to 17 decimals`, `in scientific notation with 4 decimals`,
    /// `as whole numbers`.
    pub fn en(&self) -> String {
        let decimals = match self.decimals {
            None => return "as whole numbers".to_string(),
            Some((1, 1)) => "1 decimal".to_string(),
            Some((lo, hi)) if lo == hi => format!("{lo} decimals"),
            Some((lo, hi)) => format!("{lo} to {hi} decimals"),
        };
        if self.scientific {
            format!("in scientific notation with {decimals}")
        } else {
            format!("with {decimals}")
        }
    }

    /// The same in Korean: “소수점 아래 4자리”, “과학적 표기법, 소수점 아래 4자리”, “정수”.
    pub fn ko(&self) -> String {
        let decimals = match self.decimals {
            None => return "정수".to_string(),
            Some((lo, hi)) if lo == hi => format!("소수점 아래 {lo}자리"),
            Some((lo, hi)) => format!("소수점 아래 {lo}~{hi}자리"),
        };
        if self.scientific {
            format!("과학적 표기법, {decimals}")
        } else {
            decimals
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notations() {
        assert_eq!(notation("0.4306"), Some(Notation::Fixed(4)));
        assert_eq!(notation("-1.0"), Some(Notation::Fixed(1)));
        assert_eq!(notation("9.1476e-02"), Some(Notation::Scientific(4)));
        assert_eq!(notation("1.e-05"), Some(Notation::Scientific(0)));
        assert_eq!(notation("1e-05"), Some(Notation::Scientific(0)));
        assert_eq!(notation("2."), Some(Notation::Integral));
        assert_eq!(notation("-0."), Some(Notation::Integral));
        assert_eq!(notation("2360064"), Some(Notation::Integer));
        assert_eq!(notation("-inf"), Some(Notation::NonFinite));
        assert_eq!(notation("nan"), Some(Notation::NonFinite));
        for bad in [
            "", ".", "-", ".5", "e5", "1e", "1e+", "1.2.3", "1x", "0x10", "1_0", "infinity", "NaN",
            "Inf", "1.e", "--1",
        ] {
            assert_eq!(notation(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn values() {
        assert_eq!(value("inf"), Some(f64::INFINITY));
        assert_eq!(value("-inf"), Some(f64::NEG_INFINITY));
        assert!(value("nan").is_some_and(f64::is_nan));
        assert_eq!(value("-1.2e-03"), Some(-1.2e-3));
        assert_eq!(value("2."), Some(2.0));
        assert_eq!(value("abc"), None);
    }

    /// Each notation, on the value it came from and on its neighbours, with the tolerance.
    #[test]
    fn prints_as_in_each_notation() {
        assert!(prints_as(0.5, "0.5000"));
        assert!(prints_as(0.50005, "0.5000")); // the tie: within the tolerance either way
        assert!(prints_as(0.5000509, "0.5000"));
        assert!(!prints_as(0.5000511, "0.5000"));
        assert!(prints_as(0.4999491, "0.5000"));
        assert!(!prints_as(0.4999489, "0.5000"));
        assert!(prints_as(-0.00004, "-0.0000"));
        assert!(prints_as(0.091476, "9.1476e-02"));
        assert!(!prints_as(0.091476, "9.1476e-03"));
        assert!(!prints_as(0.091478, "9.1476e-02"));
        assert!(prints_as(1.0e-5, "1.e-05"));
        assert!(prints_as(1.0e-5, "1e-05"));
        // Above 1 the tolerance is relative: 10⁻⁶ of 2000 is 0.002.
        assert!(prints_as(2000.0019, "2000.0000"));
        assert!(!prints_as(2000.0026, "2000.0000"));
        assert!(prints_as(2.0, "2."));
        assert!(prints_as(2.000_000_9, "2."));
        assert!(!prints_as(2.5, "2."));
        assert!(!prints_as(3.0, "2."));
        assert!(prints_as(2_360_064.0, "2360064"));
        assert!(!prints_as(2_360_065.0, "2360064"));
        assert!(prints_as(0.5, "0")); // precision=0
        assert!(!prints_as(1.6, "1"));
        assert!(prints_as(f64::NEG_INFINITY, "-inf"));
        assert!(!prints_as(f64::INFINITY, "-inf"));
        assert!(!prints_as(1.0, "-inf"));
        assert!(prints_as(f64::INFINITY, "inf"));
        assert!(prints_as(f64::NAN, "nan"));
        assert!(prints_as(f64::NAN, "-nan"));
        assert!(!prints_as(1.0, "nan"));
        assert!(!prints_as(f64::NAN, "0.5000"));
        assert!(!prints_as(1.0, "abc"));
    }

    #[test]
    fn writes() {
        assert_eq!(write(2.5, Notation::Integral), None);
        assert_eq!(write(1.0, Notation::NonFinite), None);
        assert_eq!(write(f64::NAN, Notation::Fixed(4)).as_deref(), Some("nan"));
        assert_eq!(
            write(f64::INFINITY, Notation::Fixed(4)).as_deref(),
            Some("inf")
        );
        assert_eq!(
            write(f64::NEG_INFINITY, Notation::Integral).as_deref(),
            Some("-inf")
        );
        assert_eq!(write(2.0, Notation::Integral).as_deref(), Some("2."));
        assert_eq!(write(2.5, Notation::Integer).as_deref(), Some("2"));
        assert_eq!(write(0.25, Notation::Fixed(3)).as_deref(), Some("0.250"));
        assert_eq!(
            write(0.25, Notation::Scientific(2)).as_deref(),
            Some("2.50e-01")
        );
    }

    #[test]
    fn resolutions() {
        assert_eq!(resolution("0.4306"), 1e-4);
        assert!((resolution("1.2346e-02") - 1e-6).abs() < 1e-20);
        assert_eq!(resolution("2."), 0.0);
        assert_eq!(resolution("2360064"), 1.0);
        assert_eq!(resolution("-inf"), 0.0);
        assert_eq!(resolution("x"), 0.0);
    }

    #[test]
    fn precisions() {
        let of = |t: &[&str]| Precision::of(&t.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(of(&["0.4306", "1.4551"]).en(), "with 4 decimals");
        assert_eq!(of(&["0.5", "0.4306"]).en(), "with 1 to 4 decimals");
        assert_eq!(of(&["1.0"]).en(), "with 1 decimal");
        assert_eq!(
            of(&["1.0e-02", "2.5e+00", "0.5"]).en(),
            "in scientific notation with 1 decimal"
        );
        assert_eq!(of(&["2.", "0.", "-inf"]).en(), "as whole numbers");
        assert_eq!(of(&["0.4306"]).ko(), "소수점 아래 4자리");
        assert_eq!(of(&["0.5", "0.4306"]).ko(), "소수점 아래 1~4자리");
        assert_eq!(of(&["1.0e-02"]).ko(), "과학적 표기법, 소수점 아래 1자리");
        assert_eq!(of(&["2."]).ko(), "정수");
    }
}
