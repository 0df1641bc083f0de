//! Unit tests of the planner.

use quote::ToTokens;

use super::*;

fn ty(s: &str) -> Result<Ty, String> {
    classify_type(&syn::parse_str::<Type>(s).unwrap())
}

fn plan(f: &ChangedFn) -> Plan {
    super::plan(f, &CrateTypes::default())
}

#[test]
fn std_types_are_planned() {
    assert_eq!(ty("u32"), Ok(Ty::Prim("u32")));
    assert_eq!(
        ty("&str"),
        Ok(Ty::Ref {
            mutable: false,
            inner: Box::new(Ty::Str)
        })
    );
    assert_eq!(
        ty("&'a [u8]"),
        Ok(Ty::Ref {
            mutable: false,
            inner: Box::new(Ty::Slice(Box::new(Ty::Prim("u8"))))
        })
    );
    assert_eq!(
        ty("std::vec::Vec<Option<i64>>"),
        Ok(Ty::Vec(Box::new(Ty::Option(Box::new(Ty::Prim("i64"))))))
    );
    assert_eq!(
        ty("[char; 4]"),
        Ok(Ty::Array(Box::new(Ty::Prim("char")), 4))
    );
    assert_eq!(ty("()"), Ok(Ty::Unit));
    assert_eq!(
        ty("std::num::NonZeroU32"),
        Ok(Ty::Wrap {
            kind: Wrap::NonZero("NonZeroU32"),
            inner: Box::new(Ty::Prim("u32"))
        })
    );
    assert_eq!(
        ty("Rc<RefCell<Vec<u8>>>"),
        Ok(Ty::Wrap {
            kind: Wrap::Rc,
            inner: Box::new(Ty::Wrap {
                kind: Wrap::RefCell,
                inner: Box::new(Ty::Vec(Box::new(Ty::Prim("u8"))))
            })
        })
    );
    assert!(ty("Rc<&str>").is_err());
    assert_eq!(ty("Cow<'_, str>"), Ok(Ty::CowStr));
    assert!(matches!(
        ty("HashMap<String, Vec<u8>>"),
        Ok(Ty::Map { ordered: false, .. })
    ));
    assert!(matches!(
        ty("BTreeSet<(u8, char)>"),
        Ok(Ty::Set { ordered: true, .. })
    ));
    assert!(matches!(ty("Result<u32, String>"), Ok(Ty::Result(..))));
    assert!(matches!(
        ty("&mut Vec<u32>"),
        Ok(Ty::Ref { mutable: true, .. })
    ));
    assert!(ty("Vec<&str>").unwrap().has_ref());
    assert!(!ty("Vec<(u8, String)>").unwrap().has_ref());
}

#[test]
fn unsupported_types_say_why() {
    assert!(ty("Rect")
        .unwrap_err()
        .contains("`Rect` is neither a std type"));
    assert!(ty("impl AsRef<str>").unwrap_err().contains("impl Trait"));
    assert!(ty("&mut str").unwrap_err().contains("&mut str"));
    assert!(ty("HashMap<f64, u8>").unwrap_err().contains("key type"));
    assert!(ty("Result<u8>").unwrap_err().contains("alias"));
    assert!(ty("[u8; N]").unwrap_err().contains("not a number"));
    assert!(ty("Vec<&mut u8>")
        .unwrap_err()
        .contains("mutable references"));
    assert!(ty("mycrate::Vec<u8>").is_err());
    assert!(ty("*const u8").unwrap_err().contains("raw pointer"));
}

fn changed(src: &str) -> ChangedFn {
    let item: syn::ItemFn = syn::parse_str(src).unwrap();
    ChangedFn {
        module: vec![],
        name: item.sig.ident.to_string(),
        kind: FnKind::Free,
        display_path: format!("c::{}", item.sig.ident),
        file: "src/lib.rs".into(),
        line: 1,
        end_line: 1,
        sig: item.sig,
        is_pub: true,
        exported: true,
        plain_pub: true,
        doc: String::new(),
        cfg_attrs: vec![],
        literals: Default::default(),
        skip: None,
        calls: Default::default(),
        called: Default::default(),
    }
}

#[test]
fn functions_are_planned_or_skipped_with_reasons() {
    let Plan::Call(p) = plan(&changed("fn f(s: &str, (a, b): (u8, u8)) -> usize { 0 }")) else {
        panic!()
    };
    assert_eq!(p.args.len(), 2);
    let Plan::Skip(why) = plan(&changed("fn t((a, b): (u8, Rect)) {}")) else {
        panic!()
    };
    assert!(why.to_string().starts_with("argument `#1`"), "{why}");
    assert!(
        matches!(&why, SkipReason::Argument { name, .. } if name == "#1"),
        "{why:?}"
    );
    let Plan::Call(p) = plan(&changed("fn g<T: Ord + Copy>(v: &[T]) -> Option<T> {}")) else {
        panic!()
    };
    assert_eq!(tokens(&p.args[0].written), "&[i32]");
    assert_eq!(p.ret.to_token_stream().to_string(), "-> Option < i32 >");
    assert!(p.generics.params.is_empty());
    let Plan::Call(p) = plan(&changed(
        "fn s(x: impl AsRef<str>, y: impl IntoIterator<Item = u8>) {}",
    )) else {
        panic!()
    };
    assert_eq!(tokens(&p.args[0].written), "std :: string :: String");
    assert_eq!(tokens(&p.args[1].written), "std :: vec :: Vec<u8>");
    let Plan::Call(p) = plan(&changed(
        "fn c<T: Copy, F: Fn(T) -> bool>(v: &[T], f: F) {}",
    )) else {
        panic!()
    };
    assert_eq!(tokens(&p.args[1].written), "impl Fn (i32) -> bool");
    assert_eq!(
        p.args[1].ty,
        Ty::Closure {
            arity: 1,
            ret: Box::new(Ty::Prim("bool"))
        }
    );
    let Plan::Call(p) = plan(&changed(
        "fn w(s: &str) -> impl Iterator<Item = u8> + '_ {}",
    )) else {
        panic!()
    };
    assert_eq!(p.result, ResultUse::Drain);
    assert_eq!(
        p.ret.to_token_stream().to_string(),
        "-> std :: vec :: Vec < u8 >"
    );
    let Plan::Skip(why) = plan(&changed("fn h(r: Rect) {}")) else {
        panic!()
    };
    assert!(why.to_string().starts_with("argument `r`: `Rect`"), "{why}");
    let mut m = changed("fn new(x: u8) -> Self { todo!() }");
    m.kind = FnKind::Inherent {
        self_ty: Box::new(syn::parse_quote!(Stack)),
        impl_generics: Default::default(),
    };
    let Plan::Call(p) = plan(&m) else { panic!() };
    assert_eq!(p.ret.to_token_stream().to_string(), "-> Stack");
    let mut pop = changed("fn pop(&mut self, n: usize) -> Option<u8> { None }");
    pop.kind = m.kind.clone();
    let Plan::Skip(why) = plan(&pop) else {
        panic!()
    };
    assert!(
        why.to_string().starts_with("receiver `&mut Stack`"),
        "{why}"
    );
    assert_eq!(p.callee.to_token_stream().to_string(), "< Stack > :: new");
}
