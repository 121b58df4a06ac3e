//! Replays one input through a target's checks, outside libFuzzer (with `FUZZ_TRACE=1` the
//! machines print every step): `cargo run --example replay -- <target> <file>`.
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(target), Some(file)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: replay <target> <file>");
        std::process::exit(2);
    };
    let data = std::fs::read(file).expect("read the input");
    usvideo_fuzz::checks::run(target, &data);
    eprintln!("ok");
}
