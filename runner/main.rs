fn main() {
    std::process::exit(perfgate::cli::main());
}
