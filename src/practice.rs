//! # Practice: write the chapter yourself
#![doc = include_str!(concat!(env!("OUT_DIR"), "/docs/practice.md"))]
