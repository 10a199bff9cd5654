//! # Why these numbers match the book
#![doc = include_str!(concat!(env!("OUT_DIR"), "/docs/torch_rng.md"))]

use nalgebra::DMatrix;
use rand_mt::Mt;

use crate::Error;
use crate::validate::zeros;

/// `2^-24`: turns a 24-bit integer into a float in `[0, 1)`. Exact in `f32`.
const TWO_POW_MINUS_24: f32 = 1.0 / 16_777_216.0;
/// `2^-53`: turns a 53-bit integer into a double in `[0, 1)`. Exact in `f64`.
const TWO_POW_MINUS_53: f64 = 1.0 / 9_007_199_254_740_992.0;
/// `2^-31`: scales an MCG31m1 state into `[0, 1]`. Exact in `f32`.
const TWO_POW_MINUS_31: f32 = 1.0 / 2_147_483_648.0;
/// Multiplier of MKL's MCG31m1 generator.
const MCG31_A: u64 = 1_132_489_760;
/// Modulus of MKL's MCG31m1 generator: the prime `2^31 - 1`.
const MCG31_M: u64 = 2_147_483_647;

/// How `uniform` turns a unit float `x` into a value in `[from, to)`: `x * (to - from) + from`
/// with one rounding or with two.
///
/// PyTorch picks one of several compiled CPU kernels at run time
/// (`torch.backends.cpu.get_cpu_capability()`), and they differ in exactly this step. Only
/// `uniform` with `from != 0` or `to != 1` can tell them apart: `rand` gives the same bits either way.
///
/// ```
/// use ch03_attention::{Linear, TorchRng, UniformKernel};
///
/// let mut fused = TorchRng::manual_seed(123);
/// let mut unfused = TorchRng::manual_seed(123).with_kernel(UniformKernel::Unfused);
/// let a = Linear::new(3, 2, false, &mut fused);
/// let b = Linear::new(3, 2, false, &mut unfused);
/// assert_eq!(a.weight()[(0, 1)].to_bits(), 0x3c9c_aaef);
/// assert_eq!(b.weight()[(0, 1)].to_bits(), 0x3c9c_aae0); // 15 units in the last place apart
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UniformKernel {
    /// `x.mul_add(to - from, from)`: one rounding, like the `AVX2` and `AVX512` kernels that
    /// PyTorch selects on any x86-64 CPU of the last decade. Use it to match a run on such a
    /// machine. The default.
    #[default]
    Fused,
    /// `x * (to - from) + from`: two roundings, like PyTorch's portable `DEFAULT` kernel
    /// (`ATEN_CPU_CAPABILITY=default`, or a CPU without AVX2). Use it to match such a run.
    Unfused,
}

/// Which of PyTorch's two CPU `bernoulli_` algorithms draws dropout masks.
///
/// The choice is made by the PyTorch build, not by the user: see
/// [the module docs](self#the-dropout-story) for which versions and platforms take which path.
/// The two paths give different masks *and* consume different numbers of draws, so every random
/// number after a training-mode dropout depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BernoulliPath {
    /// PyTorch's own serial kernel: two 32-bit draws per element, compared as a double. Taken by
    /// every build from PyTorch 2.7 on, and by builds without MKL (macOS arm64, where the book's
    /// outputs were recorded). Reproduces the book. The default.
    #[default]
    Serial,
    /// The Intel MKL kernel of PyTorch 2.6 and earlier on x86-64 Linux and Windows: one 32-bit
    /// draw seeds MKL's MCG31m1 generator, whose outputs are compared in `f32`. Use it to match
    /// a Linux run with an older PyTorch (such as the output posted in pytorch/pytorch#121595).
    MklLegacy,
}

/// PyTorch's CPU random number generator (`torch.manual_seed` and what follows), bit for bit.
///
/// Every method draws from one MT19937 stream in PyTorch's order, so a sequence of calls that
/// mirrors a PyTorch script yields the same `f32` bit patterns. Clone it to replay a stream.
///
/// ```
/// use ch03_attention::TorchRng;
///
/// let mut g = TorchRng::manual_seed(123);
/// let w_query = g.rand(3, 2); // torch.rand(3, 2)
/// assert_eq!(w_query[(0, 0)].to_bits(), 0x3e97_9bfc); // 0.2961
/// assert_eq!(w_query[(0, 1)].to_bits(), 0x3f04_3d6d); // 0.5166 (row-major fill)
/// assert_eq!(g.draw_count(), 6);
/// ```
#[derive(Debug, Clone)]
pub struct TorchRng {
    mt: Mt,
    initial_seed: u64,
    draws: u64,
    kernel: UniformKernel,
    bernoulli: BernoulliPath,
}

impl TorchRng {
    /// A generator seeded as by `torch.manual_seed(seed)`.
    ///
    /// Only the low 32 bits of `seed` reach the state, as in PyTorch: `2^32 + 5` and `5` give
    /// the same stream. (PyTorch turns a negative seed `s` into `s mod 2^64`, so `-1` is
    /// `u64::MAX` here.) The kernel is [`UniformKernel::Fused`] and the dropout path
    /// [`BernoulliPath::Serial`]; change them with [`with_kernel`](Self::with_kernel) and
    /// [`with_bernoulli`](Self::with_bernoulli).
    ///
    /// ```
    /// use ch03_attention::TorchRng;
    /// assert_eq!(TorchRng::manual_seed(123).next_u32(), 2_991_312_382);
    /// assert_eq!(TorchRng::manual_seed((1 << 32) + 123).next_u32(), 2_991_312_382);
    /// ```
    pub fn manual_seed(seed: u64) -> TorchRng {
        let low_32_bits = seed as u32; // the truncation PyTorch's mt19937 applies
        TorchRng {
            mt: Mt::new(low_32_bits),
            initial_seed: seed,
            draws: 0,
            kernel: UniformKernel::default(),
            bernoulli: BernoulliPath::default(),
        }
    }

    /// The same generator, with `uniform` computed by `kernel`: `Fused` to match PyTorch on an
    /// AVX2/AVX-512 CPU (the default), `Unfused` to match its portable `DEFAULT` kernel. Only
    /// `uniform` with bounds other than 0 and 1 (and so every [`Linear`](crate::Linear)) is
    /// affected; see [`UniformKernel`].
    pub fn with_kernel(mut self, kernel: UniformKernel) -> TorchRng {
        self.kernel = kernel;
        self
    }

    /// The same generator, with dropout masks drawn by `path`: `Serial` for the book and any
    /// PyTorch from 2.7 on (the default), `MklLegacy` for PyTorch 2.6 or older on x86-64 Linux or
    /// Windows. See [`BernoulliPath`].
    pub fn with_bernoulli(mut self, path: BernoulliPath) -> TorchRng {
        self.bernoulli = path;
        self
    }

    /// The kernel `uniform` uses.
    pub fn kernel(&self) -> UniformKernel {
        self.kernel
    }

    /// The algorithm [`bernoulli_mask`](Self::bernoulli_mask) uses.
    pub fn bernoulli_path(&self) -> BernoulliPath {
        self.bernoulli
    }

    /// The full 64-bit seed given to [`manual_seed`](Self::manual_seed), as
    /// `torch.initial_seed()` reports it (even though only its low 32 bits are used).
    pub fn initial_seed(&self) -> u64 {
        self.initial_seed
    }

    /// How many raw 32-bit draws have been taken since seeding. A `rand(r, c)` takes `r * c`,
    /// a [`next_u64`](Self::next_u64) two.
    pub fn draw_count(&self) -> u64 {
        self.draws
    }

    /// One raw 32-bit MT19937 output (PyTorch's `random()`).
    ///
    /// ```
    /// use ch03_attention::TorchRng;
    /// let mut g = TorchRng::manual_seed(789);
    /// assert_eq!([g.next_u32(), g.next_u32()], [1_388_712_499, 568_673_934]);
    /// ```
    #[inline]
    pub fn next_u32(&mut self) -> u32 {
        self.draws += 1;
        self.mt.next_u32()
    }

    /// Two raw draws joined into 64 bits (PyTorch's `random64()`): the first draw is the *high*
    /// word.
    ///
    /// ```
    /// use ch03_attention::TorchRng;
    /// let w = TorchRng::manual_seed(123).next_u64();
    /// assert_eq!(w, (2_991_312_382_u64 << 32) | 3_062_119_789);
    /// ```
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let high = u64::from(self.next_u32());
        let low = u64::from(self.next_u32());
        (high << 32) | low
    }

    /// `torch.rand(rows, cols)`: one draw per element, filled row by row, each value
    /// `(draw mod 2^24) / 2^24` in `[0, 1)`.
    ///
    /// ```
    /// use ch03_attention::TorchRng;
    /// let m = TorchRng::manual_seed(123).rand(3, 2);
    /// assert_eq!(m[(2, 1)].to_bits(), 0x3f5d_d462); // 0.8665
    /// ```
    ///
    /// # Panics
    ///
    /// As [`uniform`](Self::uniform), for a size that cannot be allocated.
    pub fn rand(&mut self, rows: usize, cols: usize) -> DMatrix<f32> {
        self.uniform(rows, cols, 0.0, 1.0)
    }

    /// `torch.empty(rows, cols).uniform_(from, to)`: like [`rand`](Self::rand), then scaled to
    /// `[from, to)` by the generator's [`UniformKernel`].
    ///
    /// `from` and `to` are rounded to `f32` first and `to - from` is an `f32` subtraction, as in
    /// PyTorch. (PyTorch rejects `from > to`; this function applies the same formula anyway.)
    ///
    /// ```
    /// use ch03_attention::TorchRng;
    /// let m = TorchRng::manual_seed(123).uniform(1, 2, -1.0, 1.0);
    /// assert_eq!(m[(0, 0)], 0.296_111_94 * 2.0 - 1.0);
    /// ```
    ///
    /// # Panics
    ///
    /// If `rows × cols` elements cannot be allocated (the count overflows `usize`, or the
    /// allocator refuses): the message names the sizes. [`try_uniform`](Self::try_uniform)
    /// returns that as an [`Error`] instead.
    pub fn uniform(&mut self, rows: usize, cols: usize, from: f64, to: f64) -> DMatrix<f32> {
        self.try_uniform(rows, cols, from, to)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`uniform`](Self::uniform), returning an error for a size that cannot be allocated. No
    /// number is drawn then.
    ///
    /// ```
    /// use ch03_attention::TorchRng;
    /// let err = TorchRng::manual_seed(1).try_uniform(1 << 33, 1 << 31, 0.0, 1.0).unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "torch.rand: a 8589934592 × 2147483648 matrix (18446744073709551616 elements) is too large to allocate"
    /// );
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::TooLarge`] if `rows × cols` overflows `usize` or the allocator refuses it.
    pub fn try_uniform(
        &mut self,
        rows: usize,
        cols: usize,
        from: f64,
        to: f64,
    ) -> Result<DMatrix<f32>, Error> {
        self.try_uniform_for("torch.rand", rows, cols, from, to)
    }

    /// [`try_uniform`](Self::try_uniform) for a tensor that `what` names in the error.
    pub(crate) fn try_uniform_for(
        &mut self,
        what: &'static str,
        rows: usize,
        cols: usize,
        from: f64,
        to: f64,
    ) -> Result<DMatrix<f32>, Error> {
        let mut m = zeros(what, rows, cols)?; // column-major storage
        let from = from as f32;
        let range = to as f32 - from;
        if from == 0.0 && range == 1.0 {
            // rand(): x * 1 + 0 is x in both kernels, so skip the arithmetic.
            self.fill_row_major(&mut m, |x| x);
        } else {
            match self.kernel {
                UniformKernel::Fused => self.fill_row_major(&mut m, |x| x.mul_add(range, from)),
                UniformKernel::Unfused => self.fill_row_major(&mut m, |x| x * range + from),
            }
        }
        Ok(m)
    }

    /// Fills `m` so that its elements, taken row by row, are `scale(x)` for successive unit
    /// floats `x`. (The matrix is stored column by column, so row `r` lands at positions `r`,
    /// `r + rows`, `r + 2·rows`, …; writing it directly avoids a second, transposing copy.)
    fn fill_row_major(&mut self, m: &mut DMatrix<f32>, scale: impl Fn(f32) -> f32) {
        let rows = m.nrows();
        let data = m.as_mut_slice();
        if data.is_empty() {
            return; // (rows × 0): no row has a first element to start from
        }
        for r in 0..rows {
            for slot in data[r..].iter_mut().step_by(rows) {
                *slot = scale(self.unit_f32());
            }
        }
    }

    /// One draw as a float in `[0, 1)`: its low 24 bits times `2^-24` (exact).
    #[inline]
    fn unit_f32(&mut self) -> f32 {
        (self.next_u32() & 0x00ff_ffff) as f32 * TWO_POW_MINUS_24
    }

    /// `len` Bernoulli trials, each `true` with probability `keep_prob`: the float mask of
    /// `torch.empty(len).bernoulli_(keep_prob)`, in row-major order. Dropout keeps the elements
    /// where the mask is `true`.
    ///
    /// The algorithm is the generator's [`BernoulliPath`]:
    /// * [`Serial`](BernoulliPath::Serial): per element, [`next_u64`](Self::next_u64) keeps its
    ///   low 53 bits, becomes the double `u = v / 2^53`, and the trial succeeds if
    ///   `u < keep_prob`. Takes `2 * len` draws.
    /// * [`MklLegacy`](BernoulliPath::MklLegacy): one draw seeds MKL's MCG31m1 generator
    ///   (`x₀ = draw mod (2^31 - 1)`, 0 replaced by 1; then `x ← x · 1132489760 mod (2^31 - 1)`);
    ///   element `k` succeeds if `f32(x_k) · 2^-31 < f32(keep_prob)`. Takes one draw, whatever
    ///   `len` is.
    ///
    /// ```
    /// use ch03_attention::{BernoulliPath, TorchRng};
    ///
    /// let mut g = TorchRng::manual_seed(123);
    /// assert_eq!(g.bernoulli_mask(6, 0.5), [true, true, false, true, true, false]);
    /// assert_eq!(g.draw_count(), 12);
    ///
    /// let mut g = TorchRng::manual_seed(123).with_bernoulli(BernoulliPath::MklLegacy);
    /// assert_eq!(g.bernoulli_mask(8, 0.5), [true, true, true, true, true, true, false, true]);
    /// assert_eq!(g.draw_count(), 1);
    /// ```
    pub fn bernoulli_mask(&mut self, len: usize, keep_prob: f64) -> Vec<bool> {
        match self.bernoulli {
            BernoulliPath::Serial => self.bernoulli_serial(len, keep_prob),
            BernoulliPath::MklLegacy => self.bernoulli_mkl(len, keep_prob),
        }
    }

    /// [`BernoulliPath::Serial`]: a 53-bit double uniform per element, strict `<`.
    fn bernoulli_serial(&mut self, len: usize, keep_prob: f64) -> Vec<bool> {
        (0..len)
            .map(|_| {
                let v = self.next_u64() & ((1 << 53) - 1);
                (v as f64) * TWO_POW_MINUS_53 < keep_prob
            })
            .collect()
    }

    /// [`BernoulliPath::MklLegacy`]: one draw seeds MCG31m1; `f32` uniforms, strict `<`.
    fn bernoulli_mkl(&mut self, len: usize, keep_prob: f64) -> Vec<bool> {
        let seed = u64::from(self.next_u32());
        let mut x = match seed % MCG31_M {
            0 => 1, // MKL's rule: a zero state would stay zero forever
            x0 => x0,
        };
        let threshold = keep_prob as f32;
        let mut mask = Vec::with_capacity(len);
        for _ in 0..len {
            let u = (x as f32) * TWO_POW_MINUS_31; // `as` rounds to nearest, ties to even
            mask.push(u < threshold);
            x = x * MCG31_A % MCG31_M;
        }
        mask
    }
}
