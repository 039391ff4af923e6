fn main() -> std::process::ExitCode {
    atwb::cli::main()
}
