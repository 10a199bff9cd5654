//! Helpers shared by the integration tests.
#![allow(dead_code)] // each test file uses its own subset

/// Asserts `text` against `snapshots/<name>.snap` (top-level folder), with a description that
/// says what the snapshot shows. Names are explicit and global: never derived from test order.
pub fn snapshot(name: &str, description: &str, text: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.set_description(description);
    settings.bind(|| insta::assert_snapshot!(name, text));
}

/// Reads a file under `tests/data/`.
pub fn data_file(name: &str) -> String {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// One module run recorded from PyTorch by `scripts/torch_attention_truth.py`.
#[derive(Debug, Clone)]
pub struct TorchCase {
    pub kind: String,
    pub seed: u64,
    pub batch: usize,
    pub tokens: usize,
    pub d_in: usize,
    pub d_out: usize,
    pub context_length: usize,
    pub dropout: f64,
    pub num_heads: usize,
    pub qkv_bias: bool,
    pub out_shape: Vec<usize>,
    /// Evaluation-mode output, row-major over (batch, tokens, width).
    pub eval: Vec<f32>,
    /// Training-mode output (dropout drawn after the input).
    pub train: Vec<f32>,
    /// `torch.rand(4)` after everything: where the generator stands.
    pub next_rand: Vec<f32>,
}

fn hex_f32s(v: &tinyjson::JsonValue) -> Vec<f32> {
    v.get::<Vec<tinyjson::JsonValue>>()
        .unwrap()
        .iter()
        .map(|h| f32::from_bits(u32::from_str_radix(h.get::<String>().unwrap(), 16).unwrap()))
        .collect()
}

/// The recorded cases of one `kind` ("v1", "v2", "causal", "wrapper", "mha").
pub fn torch_cases(kind: &str) -> Vec<TorchCase> {
    use tinyjson::JsonValue;
    let json: JsonValue = data_file("torch_attention.json").parse().unwrap();
    let num = |c: &JsonValue, k: &str, default: f64| -> f64 {
        match c
            .get::<std::collections::HashMap<String, JsonValue>>()
            .unwrap()
            .get(k)
        {
            Some(v) => *v.get::<f64>().unwrap(),
            None => default,
        }
    };
    json["cases"]
        .get::<Vec<JsonValue>>()
        .unwrap()
        .iter()
        .filter(|c| c["kind"].get::<String>().unwrap() == kind)
        .map(|c| {
            let obj = c
                .get::<std::collections::HashMap<String, JsonValue>>()
                .unwrap();
            TorchCase {
                kind: kind.to_string(),
                seed: num(c, "seed", 0.0) as u64,
                batch: num(c, "batch", 1.0) as usize,
                tokens: num(c, "tokens", 0.0) as usize,
                d_in: num(c, "d_in", 0.0) as usize,
                d_out: num(c, "d_out", 0.0) as usize,
                context_length: num(c, "context_length", 0.0) as usize,
                dropout: num(c, "dropout", 0.0),
                num_heads: num(c, "num_heads", 1.0) as usize,
                qkv_bias: obj
                    .get("qkv_bias")
                    .is_some_and(|b| *b.get::<bool>().unwrap()),
                out_shape: c["out_shape"]
                    .get::<Vec<JsonValue>>()
                    .unwrap()
                    .iter()
                    .map(|d| *d.get::<f64>().unwrap() as usize)
                    .collect(),
                eval: hex_f32s(&c["eval"]),
                train: hex_f32s(&c["train"]),
                next_rand: hex_f32s(&c["next_rand"]),
            }
        })
        .collect()
}

/// Largest `|got - want| / max(1, |want|)` over two equally long slices: relative error for
/// values above 1, absolute below (attention outputs are mostly below 1 in magnitude).
///
/// Infinite where the two differ in kind, which no tolerance may hide and which would print
/// differently: one NaN and not the other, different infinities, or zeros of different sign
/// (PyTorch prints `0.` where `-0.` would print `-0.`). (A plain `f32::max` fold would even skip
/// a NaN difference.)
pub fn max_scaled_error(got: &[f32], want: &[f32]) -> f32 {
    assert_eq!(got.len(), want.len(), "lengths differ");
    got.iter()
        .zip(want)
        .map(|(g, w)| {
            let same_kind = g.is_nan() == w.is_nan()
                && g.is_infinite() == w.is_infinite()
                && (*g != 0.0 || *w != 0.0 || g.is_sign_negative() == w.is_sign_negative());
            if !same_kind {
                f32::INFINITY
            } else if g.is_nan() || g == w {
                0.0
            } else {
                (g - w).abs() / w.abs().max(1.0)
            }
        })
        .fold(0.0, f32::max)
}

/// The text of the PyTorch printout `name` in `tests/data/diagnose_fixtures.json`.
pub fn fixture_text(name: &str) -> String {
    let json: tinyjson::JsonValue = data_file("diagnose_fixtures.json").parse().unwrap();
    let cases: &Vec<tinyjson::JsonValue> = json["cases"].get().unwrap();
    let case = cases
        .iter()
        .find(|c| c["name"].get::<String>().unwrap() == name)
        .unwrap_or_else(|| panic!("no fixture {name}"));
    case["text"].get::<String>().unwrap().clone()
}

/// Runs `cargo run -- diagnose ARGS` with `input` on standard input (written on a thread, so a
/// large input cannot block; the binary may exit before reading, and a broken pipe is fine):
/// the exit code, standard output and standard error.
pub fn run_diagnose(input: &[u8], args: &[&str]) -> (Option<i32>, String, String) {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_ch03-attention"))
        .arg("diagnose")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
