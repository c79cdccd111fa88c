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
        "struct S;\nimpl S {\n    fn get<T: Default>(&self, n: u8) -> T { Self::get_inner::<T>(self, n) } fn get_inner<T: Default>(&self, mut n: u8) -> T {\n        n += 1;\n        T::default()\n    }\n}\nasync fn run() { run_inner().await } async fn run_inner() {}\n"
    );
}

#[test]
fn generic_fn_once_annotates_the_closure_with_the_return_type() {
    let text = "fn f() -> Box<dyn std::fmt::Debug> {\n    Box::new(1)\n}\nfn main() {}\n";
    assert_eq!(
        main_file("generic-fn-once", text),
        "fn f() -> Box<dyn std::fmt::Debug> { crate::call_once1(|| -> Box<dyn std::fmt::Debug> {\n    Box::new(1)\n}) }\nfn main() { crate::call_once1(|| {}) }\n\nfn call_once1<R, F: FnOnce() -> R>(f: F) -> R {\n    f()\n}\n"
    );
}

#[test]
fn drop_to_helper_fn_spells_self_out() {
    let text = "struct G<T>(Vec<T>);\nimpl<T> Drop for G<T> {\n    fn drop(&mut self) {\n        let _: Option<Self> = None;\n        self.0.clear(); //~ rule\n    }\n}\n";
    assert_eq!(
        main_file("drop-to-helper-fn", text),
        "struct G<T>(Vec<T>);\nimpl<T> Drop for G<T> {\n    fn drop(&mut self) { drop_helper1(self) } } fn drop_helper1<T>(this: &mut G<T>) {\n        let _: Option<G<T>> = None;\n        this.0.clear(); //~ rule\n    }\n\n"
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

/// All files of the variant, as `(path, text)`.
fn files(name: &str, text: &str) -> Vec<(String, String)> {
    match rewrite(name, text) {
        Rewritten::Variant(files) => files
            .into_iter()
            .map(|file| (file.path, file.text))
            .collect(),
        Rewritten::NotApplicable(reason) => panic!("`{name}` not applicable: {reason}"),
    }
}

#[test]
fn drop_via_dyn_2_uses_the_second_implementation_in_main() {
    let text = "struct G<'a>(&'a mut u8);\nimpl<'a> Drop for G<'a> where 'a: 'a {\n    fn drop(&mut self) {\n        *self.0 += 1; //~ rule\n    }\n}\nfn main() {}\n";
    assert_eq!(
        main_file("drop-via-dyn-2", text),
        "struct G<'a>(&'a mut u8);\nimpl<'a> Drop for G<'a> where 'a: 'a {\n    fn drop(&mut self) { let this: &mut dyn crate::Cleanup1 = self; this.cleanup(); } } impl<'a> crate::Cleanup1 for G<'a> where 'a: 'a { fn cleanup(&mut self) {\n        *self.0 += 1; //~ rule\n    }\n}\nfn main() { noop_cleanup1();}\n\ntrait Cleanup1 {\n    fn cleanup(&mut self);\n}\n\nstruct NoopCleanup1;\n\nimpl Cleanup1 for NoopCleanup1 {\n    fn cleanup(&mut self) {}\n}\n\nfn noop_cleanup1() {\n    let mut noop1 = NoopCleanup1;\n    let this: &mut dyn Cleanup1 = &mut noop1;\n    this.cleanup();\n}\n"
    );
}

#[test]
fn via_struct_field_reaches_the_holder_from_a_module_through_the_crate_root() {
    let text = "mod m {\n    pub fn f() {\n        let a = 1;\n        let _ = a;\n    }\n}\nfn main() {\n    m::f();\n}\n";
    assert_eq!(
        main_file("via-struct-field", text),
        "mod m {\n    pub fn f() {\n        let tmp1 = 1; let a = crate::FieldHolder1 { inner: tmp1 }.inner;\n        let _ = a;\n    }\n}\nfn main() {\n    m::f();\n}\n\nstruct FieldHolder1<T> {\n    inner: T,\n}\n"
    );
}

#[test]
fn other_module_widens_what_main_reaches_and_moves_markers_with_the_code() {
    let text = "//@ run: ok\n// A fixture.\nuse std::cell::RefCell;\n\n/// A counter.\nstruct Counter {\n    hits: u32,\n}\n\nimpl Counter {\n    fn hit(&mut self) {\n        self.hits += 1; //~ rule\n    }\n}\n\nthread_local! {\n    static COUNTER: RefCell<Counter> = RefCell::new(Counter { hits: 0 });\n}\n\nmod inner {\n    pub(super) fn zero() -> u32 {\n        0\n    }\n}\n\nfn main() {\n    COUNTER.with(|c| c.borrow_mut().hit());\n    let _ = Counter { hits: inner::zero() };\n}\n";
    let expected = [
        (
            "main.rs",
            "//@ run: ok\n// A fixture.\nuse std::cell::RefCell;\n\nfn main() {\n    COUNTER.with(|c| c.borrow_mut().hit());\n    let _ = Counter { hits: inner::zero() };\n}\n\nmod helpers;\nuse crate::helpers::{COUNTER, Counter, inner};\n",
        ),
        (
            "helpers.rs",
            "//! The fixture's items, moved out of the crate root.\n\nuse std::cell::RefCell;\n\n/// A counter.\npub(crate) struct Counter {\n    pub(crate) hits: u32,\n}\n\nimpl Counter {\n    pub(crate) fn hit(&mut self) {\n        self.hits += 1; //~ rule\n    }\n}\n\nthread_local! {\n    pub(crate) static COUNTER: RefCell<Counter> = RefCell::new(Counter { hits: 0 });\n}\n\npub(crate) mod inner {\n    pub(crate) fn zero() -> u32 {\n        0\n    }\n}\n",
        ),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(path, text)| ((*path).to_owned(), (*text).to_owned()))
        .collect();
    assert_eq!(files("other-module", text), expected);
}

#[test]
fn glob_std_keeps_module_imports_and_shadows_no_prelude_name() {
    let text = "use std::thread::{self, JoinHandle};\nuse std::sync::Arc;\nfn main() {\n    let h: JoinHandle<()> = thread::spawn(|| {});\n    let _ = Arc::new(h.join());\n}\n";
    assert_eq!(
        main_file("glob-std", text),
        "use std::thread::*; use std::thread;\nuse std::sync::*;\nfn main() {\n    let h: JoinHandle<()> = thread::spawn(|| {});\n    let _ = Arc::new(h.join());\n}\n"
    );
    let shadowing = "use std::thread::sleep;\nfn main() -> Result<(), String> {\n    sleep(std::time::Duration::ZERO);\n    Ok(())\n}\n";
    assert_eq!(
        reason("glob-std", shadowing),
        "in the crate root: `std::thread::*` would shadow the prelude's `Result`"
    );
}

#[test]
fn glob_foreign_leaves_a_module_whose_glob_brings_a_used_name() {
    let text = "use std::sync::Mutex;\nmod inner {\n    use super::*;\n    pub fn f(m: &Mutex<u8>) -> u8 {\n        *m.lock().unwrap()\n    }\n}\nmod other {\n    pub fn g() {}\n}\nfn main() {\n    other::g();\n    let _ = inner::f(&Mutex::new(1));\n}\n";
    assert_eq!(
        main_file("glob-foreign", text),
        "use std::sync::Mutex;\nmod inner {\n    use super::*;\n    pub fn f(m: &Mutex<u8>) -> u8 {\n        *m.lock().unwrap()\n    }\n}\nmod other { use tokio::sync::*;\n    pub fn g() {}\n}\nfn main() {\n    other::g();\n    let _ = inner::f(&Mutex::new(1));\n}\n\nuse tokio::sync::*;\n"
    );
}

#[test]
fn type_aliases_keep_a_map_with_a_custom_hasher() {
    let text = "use std::collections::HashMap;\nuse std::hash::RandomState;\nfn main() {\n    let a: HashMap<u8, u8> = HashMap::new();\n    let b: HashMap<u8, u8, RandomState> = HashMap::with_hasher(RandomState::new());\n    let _ = (a, b);\n}\n";
    assert_eq!(
        main_file("type-aliases", text),
        "use std::collections::HashMap;\nuse std::hash::RandomState;\nfn main() {\n    let a: MapAlias1<u8, u8> = MapAlias1::new();\n    let b: HashMap<u8, u8, RandomState> = HashMap::with_hasher(RandomState::new());\n    let _ = (a, b);\n}\n\ntype MapAlias1<K, V> = std::collections::HashMap<K, V>;\n"
    );
}

#[test]
fn rename_keeps_library_names_and_spells_out_shorthand_fields() {
    let text = "use std::collections::HashMap;\nuse std::ops::Range;\nstruct Store {\n    map: HashMap<u32, u32>,\n}\nimpl Store {\n    fn insert(&mut self, key: u32) {\n        self.map.insert(key, key);\n    }\n    fn tally(&mut self, key: u32) {\n        self.insert(key);\n    }\n}\nimpl Drop for Store {\n    fn drop(&mut self) {\n        let count = self.map.len();\n        println!(\"{count} left\");\n    }\n}\nfn main() {\n    let start = 1;\n    let range = Range { start, end: 2 };\n    let mut store = Store { map: HashMap::new() };\n    store.tally(range.start);\n}\n";
    assert_eq!(
        main_file("rename", text),
        "use std::collections::HashMap;\nuse std::ops::Range;\nstruct Type1 {\n    field1: HashMap<u32, u32>,\n}\nimpl Type1 {\n    fn insert(&mut self, var2: u32) {\n        self.field1.insert(var2, var2);\n    }\n    fn method2(&mut self, var2: u32) {\n        self.insert(var2);\n    }\n}\nimpl Drop for Type1 {\n    fn drop(&mut self) {\n        let var1 = self.field1.len();\n        println!(\"{var1} left\");\n    }\n}\nfn main() {\n    let var4 = 1;\n    let var3 = Range { start: var4, end: 2 };\n    let mut var5 = Type1 { field1: HashMap::new() };\n    var5.method2(var3.start);\n}\n"
    );
}
