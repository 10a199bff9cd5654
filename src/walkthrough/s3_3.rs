//! Section 3.3: attention without trainable weights. Every item is a printed result of the
//! book, listed in the registry ([`crate::book`]).

use super::{Section, with_printed};
use crate::Error;

pub(super) fn sections() -> Result<Vec<Section>, Error> {
    let s331 = Section {
        id: "3.3.1",
        title: "A simple self-attention mechanism without trainable weights",
        items: with_printed("3.3.1", Vec::new())?,
    };
    let s332 = Section {
        id: "3.3.2",
        title: "Computing attention weights for all input tokens",
        items: with_printed("3.3.2", Vec::new())?,
    };
    Ok(vec![s331, s332])
}
