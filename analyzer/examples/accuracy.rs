//! `scripts/accuracy`: the real-ticket corpus, per cause, with every miss.
#![allow(clippy::print_stdout)]

#[path = "../tests/corpus/mod.rs"]
mod corpus;

fn main() {
    let out = corpus::run();
    print!("{}", corpus::table(&out));
    let misses = corpus::misses(&out);
    if !misses.is_empty() {
        println!("\nmisses (want -> got):");
        print!("{misses}");
    }
}
