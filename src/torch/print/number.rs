//! Numbers as Python and PyTorch write them: Python's `repr` of a float and its scientific
//! notation (`9.1476e-02`), and the names of the non-finite values.

pub(super) fn nonfinite(v: f64) -> String {
    if v.is_nan() {
        "nan".into()
    } else if v.is_sign_negative() {
        "-inf".into()
    } else {
        "inf".into()
    }
}

/// Python's `'{:.4e}'.format(v)` (for `precision` 4): `9.1476e-02`, `1.0000e+03` (sign and at
/// least two exponent digits, which Rust's `{:e}` omits).
pub fn sci(v: f64, precision: usize) -> String {
    if !v.is_finite() {
        return nonfinite(v);
    }
    let s = format!("{v:.precision$e}");
    let (mantissa, exp) = s.split_once('e').expect("`{:e}` always has an exponent");
    python_exponent(mantissa, exp.parse().expect("integer exponent"))
}

/// `mantissa` and `exp` in Python's style: `e`, a sign, at least two digits (`9.1476e-02`).
fn python_exponent(mantissa: &str, exp: i32) -> String {
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exp.abs())
}

/// Python's `repr` of a float (what `print(some_float)` shows): the shortest text that reads
/// back as the same `f64`, with `.0` on integral values and Python's exponent style
/// (`1e-05`, `1e+16`) outside `1e-4 <= |x| < 1e16`.
pub fn python_float_repr(x: f64) -> String {
    if !x.is_finite() {
        return nonfinite(x);
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0" } else { "0.0" }.to_string();
    }
    // How many significant digits the shortest round-trip form needs, e.g. 5 for "1.2345e-7".
    let shortest = format!("{x:e}");
    let digits = shortest
        .split_once('e')
        .map_or(0, |(m, _)| m.bytes().filter(u8::is_ascii_digit).count());
    // Several strings of that length may read back as `x`; Python takes the one closest to `x`,
    // the correctly rounded one, with ties to even (578.57501220703125 is "578.5750122070312";
    // the shortest-digits search alone gives "…313"). Rust's fixed-precision formatting rounds
    // exactly that way.
    let sci = format!("{:.*e}", digits.saturating_sub(1), x);
    let (mantissa, exp) = sci.split_once('e').expect("`{:e}` always has an exponent");
    let exp: i32 = exp.parse().expect("integer exponent");
    if (-4..16).contains(&exp) {
        fixed_from_digits(mantissa, exp)
    } else {
        python_exponent(mantissa, exp)
    }
}

/// `-1.2345` with exponent `exp` (at most 15) written out in fixed point, as Python writes it:
/// at least one digit on each side of the point (`0.00012345`, `123450.0`).
fn fixed_from_digits(mantissa: &str, exp: i32) -> String {
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let point = exp + 1; // digits before the decimal point
    let body = if point <= 0 {
        format!("0.{}{digits}", "0".repeat(point.unsigned_abs() as usize))
    } else {
        let point = point as usize;
        if point >= digits.len() {
            format!("{digits}{}.0", "0".repeat(point - digits.len()))
        } else {
            format!("{}.{}", &digits[..point], &digits[point..])
        }
    };
    format!("{sign}{body}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_repr_of_floats() {
        assert_eq!(python_float_repr(1.0), "1.0");
        assert_eq!(python_float_repr(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(python_float_repr(1.0e-5), "1e-05");
        assert_eq!(python_float_repr(1.5e16), "1.5e+16");
        assert_eq!(python_float_repr(123456.0), "123456.0");
        assert_eq!(python_float_repr(-0.0001), "-0.0001");
    }

    #[test]
    fn python_style_exponent() {
        assert_eq!(sci(0.091476, 4), "9.1476e-02");
        assert_eq!(sci(-1.4744, 4), "-1.4744e+00");
        assert_eq!(sci(1.0e100, 4), "1.0000e+100");
        assert_eq!(sci(1.0e-5, 0), "1e-05");
    }
}
