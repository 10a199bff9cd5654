//! PyTorch ground truth for `TorchRng`, `Linear` and `Dropout`, recorded by
//! `scripts/torch_truth.py` into `tests/data/torch_rng.json` (torch 2.15.0, CPU).
//!
//! The file holds two runs of the same script: `fused` (the AVX2/AVX-512 kernels PyTorch picks
//! on this kind of machine) and `unfused` (`ATEN_CPU_CAPABILITY=default`, the portable kernel).
//! Every case starts from `torch.manual_seed(seed)`, does one thing, then records `torch.rand(4)`
//! so the generator's position afterwards is checked too. Everything is compared bit for bit;
//! each test reports how many cases of its category matched.
//!
//! Torch 2.15 takes the Serial dropout path on every platform, so the MklLegacy path has no
//! cases here; tests/dropout.rs checks it against torch 2.4.0's recorded matrices.

use crate::common;

use std::collections::HashMap;
use std::sync::OnceLock;

use ch03_attention::nalgebra::DMatrix;
use ch03_attention::{Dropout, Linear, TorchRng, UniformKernel};
use rstest::rstest;
use tinyjson::JsonValue;

fn data() -> &'static JsonValue {
    static DATA: OnceLock<JsonValue> = OnceLock::new();
    DATA.get_or_init(|| {
        common::data_file("torch_rng.json")
            .parse()
            .expect("valid JSON")
    })
}

fn kernel_of(run: &str) -> UniformKernel {
    match run {
        "fused" => UniformKernel::Fused,
        "unfused" => UniformKernel::Unfused,
        other => panic!("unknown run {other}"),
    }
}

/// The cases of one kind in one run.
fn cases(run: &str, kinds: &[&str]) -> Vec<&'static JsonValue> {
    data()[run]["cases"]
        .get::<Vec<JsonValue>>()
        .unwrap()
        .iter()
        .filter(|c| kinds.contains(&c["kind"].get::<String>().unwrap().as_str()))
        .collect()
}

fn text(v: &JsonValue) -> &str {
    v.get::<String>().expect("a string")
}

fn number(v: &JsonValue) -> f64 {
    *v.get::<f64>().expect("a number")
}

fn hexes(v: &JsonValue) -> Vec<u32> {
    v.get::<Vec<JsonValue>>()
        .unwrap()
        .iter()
        .map(|h| u32::from_str_radix(text(h), 16).unwrap())
        .collect()
}

fn usizes(v: &JsonValue) -> Vec<usize> {
    v.get::<Vec<JsonValue>>()
        .unwrap()
        .iter()
        .map(|d| number(d) as usize)
        .collect()
}

fn has(case: &JsonValue, key: &str) -> bool {
    case.get::<HashMap<String, JsonValue>>()
        .unwrap()
        .contains_key(key)
}

/// A generator seeded as the case was, running the run's kernel.
fn generator(case: &JsonValue, run: &str) -> TorchRng {
    let seed: u64 = text(&case["seed"]).parse().unwrap();
    TorchRng::manual_seed(seed).with_kernel(kernel_of(run))
}

/// FNV-1a (64-bit), one step per 32-bit word: the script's checksum for big tensors.
fn fnv1a(words: &[u32]) -> u64 {
    words.iter().fold(0xcbf2_9ce4_8422_2325, |h, &w| {
        (h ^ u64::from(w)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Row-major bit patterns.
fn bits(m: &DMatrix<f32>) -> Vec<u32> {
    m.transpose().iter().map(|v| v.to_bits()).collect()
}

/// Compares `got` with a recorded tensor: all bits, or checksum plus both ends.
fn check_tensor(what: &str, record: &JsonValue, got: &[u32]) -> Result<(), String> {
    let numel = number(&record["numel"]) as usize;
    if got.len() != numel {
        return Err(format!("{what}: {} elements, torch has {numel}", got.len()));
    }
    if has(record, "bits") {
        let want = hexes(&record["bits"]);
        return match got.iter().zip(&want).position(|(g, w)| g != w) {
            None => Ok(()),
            Some(i) => Err(format!(
                "{what}[{i}]: {:08x} vs torch {:08x}",
                got[i], want[i]
            )),
        };
    }
    let (head, tail) = (hexes(&record["head"]), hexes(&record["tail"]));
    let checksum = u64::from_str_radix(text(&record["fnv1a"]), 16).unwrap();
    if got[..head.len()] != head[..] || got[numel - tail.len()..] != tail[..] {
        return Err(format!(
            "{what}: first or last {} elements differ",
            head.len()
        ));
    }
    if fnv1a(got) != checksum {
        return Err(format!("{what}: checksum differs"));
    }
    Ok(())
}

/// The generator's position afterwards: the next `torch.rand(4)`.
fn check_next(case: &JsonValue, rng: &mut TorchRng) -> Result<(), String> {
    let got = bits(&rng.rand(1, 4));
    if got == hexes(&case["next"]) {
        Ok(())
    } else {
        Err("the next torch.rand(4) differs: wrong number of draws used".to_string())
    }
}

/// Runs `check` on every case, prints `passed/total` and fails listing the mismatches.
fn tally(
    label: &str,
    cases: &[&JsonValue],
    minimum: usize,
    check: impl Fn(&JsonValue) -> Result<(), String>,
) {
    let failures: Vec<String> = cases
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            check(c)
                .err()
                .map(|e| format!("case {i} (seed {}): {e}", text(&c["seed"])))
        })
        .collect();
    let passed = cases.len() - failures.len();
    println!("{label}: {passed}/{} cases bit-exact", cases.len());
    assert!(
        failures.is_empty(),
        "{label}: {passed}/{} cases bit-exact; failures:\n{}",
        cases.len(),
        failures.join("\n")
    );
    assert!(
        cases.len() >= minimum,
        "{label}: only {} cases recorded",
        cases.len()
    );
}

#[test]
fn recorded_with_torch_2_15_on_both_kernels() {
    assert!(text(&data()["torch_version"]).starts_with("2.15"));
    assert!(matches!(
        text(&data()["fused"]["cpu_capability"]),
        "AVX2" | "AVX512"
    ));
    assert_eq!(text(&data()["unfused"]["cpu_capability"]), "DEFAULT");
}

/// Full 32-bit draws (read from `torch.get_rng_state()`), 1248 per seed: two twists.
#[test]
fn raw_draws() {
    tally("raw draws", &cases("fused", &["raw"]), 11, |case| {
        let mut rng = generator(case, "fused");
        let want = hexes(&case["draws"]);
        let got: Vec<u32> = (0..want.len()).map(|_| rng.next_u32()).collect();
        match got.iter().zip(&want).position(|(g, w)| g != w) {
            None if want.len() == 1248 => Ok(()),
            None => Err(format!("only {} draws recorded", want.len())),
            Some(i) => Err(format!("draw {i}: {} vs torch {}", got[i], want[i])),
        }
    });
}

#[rstest]
fn rand(#[values("fused", "unfused")] run: &str) {
    tally(
        &format!("rand [{run}]"),
        &cases(run, &["rand"]),
        18,
        |case| {
            let mut rng = generator(case, run);
            let shape = usizes(&case["out"]["shape"]);
            let got = match shape[..] {
                [rows, cols] => bits(&rng.rand(rows, cols)),
                _ => bits(&rng.rand(1, shape.iter().product())),
            };
            check_tensor("rand", &case["out"], &got)?;
            check_next(case, &mut rng)
        },
    );
}

#[rstest]
fn uniform(#[values("fused", "unfused")] run: &str) {
    tally(
        &format!("uniform_ [{run}]"),
        &cases(run, &["uniform"]),
        21,
        |case| {
            let mut rng = generator(case, run);
            let shape = usizes(&case["out"]["shape"]);
            let (from, to) = (number(&case["from"]), number(&case["to"]));
            let got = match shape[..] {
                [rows, cols] => bits(&rng.uniform(rows, cols, from, to)),
                _ => bits(&rng.uniform(1, shape.iter().product(), from, to)),
            };
            check_tensor(&format!("uniform_({from}, {to})"), &case["out"], &got)?;
            check_next(case, &mut rng)
        },
    );
}

#[rstest]
fn linear(#[values("fused", "unfused")] run: &str) {
    tally(
        &format!("nn.Linear [{run}]"),
        &cases(run, &["linear"]),
        72,
        |case| {
            let mut rng = generator(case, run);
            let (d_in, d_out) = (number(&case["in"]) as usize, number(&case["out"]) as usize);
            let with_bias = *case["bias"].get::<bool>().unwrap();
            let lin = Linear::new(d_in, d_out, with_bias, &mut rng);
            let what = format!("Linear({d_in}, {d_out}, bias={with_bias})");
            check_tensor(
                &format!("{what}.weight"),
                &case["weight"],
                &bits(lin.weight()),
            )?;
            if let Some(b) = lin.bias() {
                let got: Vec<u32> = b.iter().map(|v| v.to_bits()).collect();
                check_tensor(&format!("{what}.bias"), &case["bias_values"], &got)?;
            }
            check_next(case, &mut rng)
        },
    );
}

/// `x = torch.rand(shape)`, then `F.dropout(x, p, training=True)` (or on ones for the book's
/// case); 3-D shapes are a batch, masked as one tensor.
#[rstest]
fn dropout(#[values("fused", "unfused")] run: &str) {
    let all = cases(run, &["dropout", "dropout_ones"]);
    tally(&format!("dropout [{run}]"), &all, 43, |case| {
        let mut rng = generator(case, run);
        let shape = usizes(&case["shape"]);
        let d = Dropout::new(number(&case["p"])).map_err(|e| e.to_string())?;
        let ones = text(&case["kind"]) == "dropout_ones";
        let got = match shape[..] {
            [rows, cols] => {
                let x = if ones {
                    DMatrix::from_element(rows, cols, 1.0)
                } else {
                    rng.rand(rows, cols)
                };
                bits(&d.forward_train(&x, &mut rng))
            }
            [batch, rows, cols] => {
                let x = rng.rand(batch * rows, cols);
                let items: Vec<DMatrix<f32>> = (0..batch)
                    .map(|b| x.rows(b * rows, rows).into_owned())
                    .collect();
                d.forward_train_batch(&items, &mut rng)
                    .iter()
                    .flat_map(bits)
                    .collect()
            }
            _ => return Err(format!("unexpected shape {shape:?}")),
        };
        check_tensor(&format!("dropout(p={})", d.p()), &case["out"], &got)?;
        check_next(case, &mut rng)
    });
}

/// One generator through `rand`, `Linear`, dropout and `uniform_`, as a script would use it.
#[rstest]
fn chain(#[values("fused", "unfused")] run: &str) {
    tally(
        &format!("chain [{run}]"),
        &cases(run, &["chain"]),
        1,
        |case| {
            let mut rng = generator(case, run);
            check_tensor("rand", &case["rand"], &bits(&rng.rand(3, 4)))?;
            let lin = Linear::new(4, 3, true, &mut rng);
            check_tensor("weight", &case["weight"], &bits(lin.weight()))?;
            let bias: Vec<u32> = lin.bias().unwrap().iter().map(|v| v.to_bits()).collect();
            check_tensor("bias", &case["bias_values"], &bias)?;
            let dropped = Dropout::new(0.3)
                .unwrap()
                .forward_train(&DMatrix::from_element(5, 5, 1.0), &mut rng);
            check_tensor("dropout", &case["dropout"], &bits(&dropped))?;
            check_tensor(
                "uniform",
                &case["uniform"],
                &bits(&rng.uniform(2, 5, -2.0, 3.0)),
            )?;
            check_next(case, &mut rng)
        },
    );
}

/// Negative control: the fused and unfused runs really differ, so the comparison can fail.
#[test]
fn the_two_kernels_are_distinguishable() {
    let differing = cases("fused", &["linear"])
        .iter()
        .zip(cases("unfused", &["linear"]))
        .filter(|(f, u)| f["weight"] != u["weight"])
        .count();
    assert!(
        differing >= 40,
        "only {differing} Linear cases differ between kernels"
    );
    // And replaying a fused case with the unfused kernel fails.
    let case = cases("fused", &["linear"])[0];
    let lin = Linear::new(3, 2, true, &mut generator(case, "unfused"));
    assert!(check_tensor("weight", &case["weight"], &bits(lin.weight())).is_err());
}
