fn main() {
    println!("factory_cli");
}
