//! The rewrites' subtle cases, each an input and the exact output.

use super::rewrite;
use crate::metamorph::Rewritten;

/// The main file of the variant, or a panic with the reason there is none.
fn main_file(name: &str, text: &str) -> String {
    match rewrite(name, text) {
        Rewritten::Variant(files) => files[0].text.clone(),
        Rewritten::NotApplicable(reason) => panic!("`{name}` not applicable: {reason}"),
    }
}

fn reason(name: &str, text: &str) -> String {
    match rewrite(name, text) {
        Rewritten::Variant(files) => panic!("`{name}` applied:\n{}", files[0].text),
        Rewritten::NotApplicable(reason) => reason,
    }
}

#[test]
fn outer_loop_keeps_the_tail_as_the_tail_of_the_loop_body() {
    let text = "//@ edition: 2021\nfn main() {\n    let _a = 1;\n    std::thread::spawn(|| {}).join().unwrap()\n}\n";
    assert_eq!(
        main_file("outer-loop", text),
        "//@ edition: 2021\nfn main() { for _iteration in 0..2 {\n    let _a = 1;\n    std::thread::spawn(|| {}).join().unwrap()\n} }\n"
    );
}

#[test]
fn outer_loop_skips_functions_that_name_a_static() {
    let text = "static N: u8 = 0;\nfn main() {\n    let _ = N;\n}\n";
    assert!(reason("outer-loop", text).contains("uses the static N"));
}

#[test]
fn fn_layer_passes_parameters_on_without_their_mut() {
    let text = "struct S;\nimpl S {\n    fn get<T: Default>(&self, mut n: u8) -> T {\n        n += 1;\n        T::default()\n    }\n}\nasync fn run() {}\n";
    assert_eq!(
        main_file("fn-layer", text),
        "struct S;\nimpl S {\n    fn get<T: Default>(&self, n: u8) -> T { Self::get_inner::<T>(self, n) } fn get_inner < T : Default > (& self , mut n : u8) -> T {\n        n += 1;\n        T::default()\n    }\n}\nasync fn run() { run_inner().await } async fn run_inner () {}\n"
    );
}

#[test]
fn generic_fn_once_annotates_the_closure_with_the_return_type() {
    let text = "fn f() -> Box<dyn std::fmt::Debug> {\n    Box::new(1)\n}\nfn main() {}\n";
    assert_eq!(
        main_file("generic-fn-once", text),
        "fn f() -> Box<dyn std::fmt::Debug> { crate::call_once1(|| -> Box < dyn std :: fmt :: Debug > {\n    Box::new(1)\n}) }\nfn main() { crate::call_once1(|| {}) }\n\nfn call_once1<R, F: FnOnce() -> R>(f: F) -> R {\n    f()\n}\n"
    );
}

#[test]
fn drop_to_helper_fn_spells_self_out() {
    let text = "struct G<T>(Vec<T>);\nimpl<T> Drop for G<T> {\n    fn drop(&mut self) {\n        let _: Option<Self> = None;\n        self.0.clear(); //~ rule\n    }\n}\n";
    assert_eq!(
        main_file("drop-to-helper-fn", text),
        "struct G<T>(Vec<T>);\nimpl<T> Drop for G<T> {\n    fn drop(&mut self) { drop_helper1(self) } } fn drop_helper1< T >(this: &mut G < T >)  {\n        let _: Option<G < T >> = None;\n        this.0.clear(); //~ rule\n    }\n\n"
    );
}

#[test]
fn via_match_routes_each_let_and_keeps_mut_and_annotation() {
    let text = "fn main() {\n    let mut v: Vec<u8> = Vec::new(); //~ rule\n    v.push(1);\n}\n";
    assert_eq!(
        main_file("via-match", text),
        "fn main() {\n    let tmp1: Vec<u8> = Vec::new(); let mut v = match Some(tmp1) { Some(value) => value, None => unreachable!() }; //~ rule\n    v.push(1);\n}\n"
    );
}
