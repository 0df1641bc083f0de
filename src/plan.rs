//! Test plans: for each selected function, a generator for every argument, or the precise reason it cannot be tested.

use quote::ToTokens;
use syn::{FnArg, GenericArgument, PathArguments, ReturnType, Type};

use crate::select::{ChangedFn, FnKind};

/// An argument type the harness knows how to generate, as a tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ty {
    /// A primitive scalar: integers, floats, `bool`, `char` (the name as written, e.g. `u32`).
    Prim(&'static str),
    Unit,
    String,
    /// `str`, only behind a reference.
    Str,
    /// `[T]`, only behind a reference.
    Slice(Box<Ty>),
    Ref {
        mutable: bool,
        inner: Box<Ty>,
    },
    Vec(Box<Ty>),
    Option(Box<Ty>),
    Result(Box<Ty>, Box<Ty>),
    Box(Box<Ty>),
    Array(Box<Ty>, usize),
    Tuple(Vec<Ty>),
    Map {
        ordered: bool,
        key: Box<Ty>,
        value: Box<Ty>,
    },
    Set {
        ordered: bool,
        key: Box<Ty>,
    },
    /// `Cow<str>`, generated as a `String` and passed borrowed.
    CowStr,
}

impl Ty {
    /// Whether a value of this type borrows (so it must be rebuilt from an owned value per call).
    pub fn has_ref(&self) -> bool {
        match self {
            Ty::Prim(_) | Ty::Unit | Ty::String => false,
            Ty::Str | Ty::Slice(_) | Ty::Ref { .. } | Ty::CowStr => true,
            Ty::Vec(t) | Ty::Option(t) | Ty::Box(t) | Ty::Array(t, _) | Ty::Set { key: t, .. } => {
                t.has_ref()
            }
            Ty::Result(a, b)
            | Ty::Map {
                key: a, value: b, ..
            } => a.has_ref() || b.has_ref(),
            Ty::Tuple(ts) => ts.iter().any(Ty::has_ref),
        }
    }

    /// Whether the type can be hashed and ordered once owned (map keys and set elements).
    fn is_key(&self) -> bool {
        match self {
            Ty::Prim(p) => !p.starts_with('f'),
            Ty::Unit | Ty::String | Ty::Str | Ty::CowStr => true,
            Ty::Ref { inner, .. } => inner.is_key(),
            Ty::Vec(t) | Ty::Option(t) | Ty::Box(t) | Ty::Array(t, _) | Ty::Slice(t) => t.is_key(),
            Ty::Result(a, b) => a.is_key() && b.is_key(),
            Ty::Tuple(ts) => ts.iter().all(Ty::is_key),
            Ty::Map { .. } | Ty::Set { .. } => false,
        }
    }
}

/// One argument of the function under test.
#[derive(Debug, Clone)]
pub struct ArgPlan {
    pub ty: Ty,
    /// The type exactly as written, for the injected wrapper's signature.
    pub written: Type,
}

/// How the harness calls a function: its arguments, or why it cannot.
#[derive(Debug, Clone)]
pub enum Plan {
    Call(CallPlan),
    Skip(String),
}

#[derive(Debug, Clone)]
pub struct CallPlan {
    pub args: Vec<ArgPlan>,
    /// The return type with `Self` replaced by the impl's type, for the wrapper.
    pub ret: ReturnType,
    /// How the wrapper reaches the function from the entry module (`super::f`, `super::Type::f`).
    pub callee: syn::Path,
}

const PRIMS: &[&str] = &[
    "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128", "usize", "f32",
    "f64", "bool", "char",
];

/// Plans a call to `f`, or says why it cannot be made.
pub fn plan(f: &ChangedFn) -> Plan {
    if let Some(reason) = &f.skip {
        return Plan::Skip(reason.clone());
    }
    match plan_call(f) {
        Ok(p) => Plan::Call(p),
        Err(reason) => Plan::Skip(reason),
    }
}

fn plan_call(f: &ChangedFn) -> Result<CallPlan, String> {
    let sig = &f.sig;
    if let Some(t) = sig.generics.type_params().next() {
        return Err(format!(
            "generic function (type parameter `{}`): instantiating type parameters is not supported yet",
            t.ident
        ));
    }
    if sig.generics.const_params().next().is_some() {
        return Err("generic function with a const parameter: not supported yet".into());
    }
    if sig.variadic.is_some() {
        return Err("variadic function".into());
    }
    let callee = callee_path(f)?;
    let mut args = Vec::new();
    for (i, input) in sig.inputs.iter().enumerate() {
        match input {
            FnArg::Receiver(r) => {
                return Err(format!(
                    "method with a receiver (`{}`): building a receiver value is not supported yet",
                    r.to_token_stream().to_string().replace(" ", "")
                ))
            }
            FnArg::Typed(pt) => {
                let name = match &*pt.pat {
                    syn::Pat::Ident(id) => id.ident.to_string(),
                    _ => format!("#{}", i + 1),
                };
                let ty = classify(&pt.ty).map_err(|why| format!("argument `{name}`: {why}"))?;
                args.push(ArgPlan {
                    ty,
                    written: (*pt.ty).clone(),
                });
            }
        }
    }
    let ret = match (&sig.output, &f.kind) {
        (
            ReturnType::Type(arrow, ty),
            FnKind::Inherent { self_ty, .. } | FnKind::TraitImpl { self_ty, .. },
        ) => ReturnType::Type(*arrow, Box::new(replace_self(ty, self_ty))),
        (out, _) => out.clone(),
    };
    Ok(CallPlan { args, ret, callee })
}

/// The path from the injected entry module to the function.
fn callee_path(f: &ChangedFn) -> Result<syn::Path, String> {
    let name = &f.sig.ident;
    match &f.kind {
        FnKind::Free => Ok(syn::parse_quote!(super::#name)),
        FnKind::Inherent {
            self_ty,
            impl_generics,
        }
        | FnKind::TraitImpl {
            self_ty,
            impl_generics,
            ..
        } => {
            if impl_generics
                .params
                .iter()
                .any(|p| !matches!(p, syn::GenericParam::Lifetime(_)))
            {
                return Err(
                    "method of a generic impl: instantiating type parameters is not supported yet"
                        .into(),
                );
            }
            let ty_path = match &**self_ty {
                Type::Path(p) if p.qself.is_none() => p.path.clone(),
                other => {
                    return Err(format!(
                        "associated function of `{}`: only impls of named types are supported",
                        other.to_token_stream()
                    ))
                }
            };
            let last = ty_path.segments.last().map(|s| s.ident.clone());
            let Some(ty_ident) = last else {
                return Err("impl of an unnamed type".into());
            };
            if let FnKind::TraitImpl { trait_path, .. } = &f.kind {
                return Ok(syn::parse_quote!(<super::#ty_ident as #trait_path>::#name));
            }
            Ok(syn::parse_quote!(super::#ty_ident::#name))
        }
    }
}

/// `ty` with every `Self` replaced by `self_ty`, so a wrapper outside the impl can name it.
fn replace_self(ty: &Type, self_ty: &Type) -> Type {
    use syn::visit_mut::VisitMut;
    struct Replace<'a>(&'a Type);
    impl VisitMut for Replace<'_> {
        fn visit_type_mut(&mut self, t: &mut Type) {
            if let Type::Path(p) = t {
                if p.qself.is_none() && p.path.is_ident("Self") {
                    *t = self.0.clone();
                    return;
                }
            }
            syn::visit_mut::visit_type_mut(self, t);
        }
    }
    let mut out = ty.clone();
    Replace(self_ty).visit_type_mut(&mut out);
    out
}

/// The generator tree for a written type, or why there is none.
pub fn classify(ty: &Type) -> Result<Ty, String> {
    match ty {
        Type::Paren(p) => classify(&p.elem),
        Type::Group(g) => classify(&g.elem),
        Type::Reference(r) => {
            let inner = classify(&r.elem)?;
            if r.mutability.is_some() && inner == Ty::Str {
                return Err("`&mut str` cannot be generated".into());
            }
            if r.mutability.is_some() && inner.has_ref() && !matches!(inner, Ty::Slice(_)) {
                return Err(format!(
                    "`{}`: a mutable reference to a borrowing type",
                    tokens(ty)
                ));
            }
            Ok(Ty::Ref {
                mutable: r.mutability.is_some(),
                inner: Box::new(inner),
            })
        }
        Type::Slice(s) => Ok(Ty::Slice(Box::new(element(&s.elem)?))),
        Type::Array(a) => {
            let len = match &a.len {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Int(n),
                    ..
                }) => n.base10_parse::<usize>().ok(),
                _ => None,
            };
            let len =
                len.ok_or_else(|| format!("array length `{}` is not a number", tokens(&a.len)))?;
            if len > 4096 {
                return Err(format!("array of {len} elements is too large to generate"));
            }
            Ok(Ty::Array(Box::new(element(&a.elem)?), len))
        }
        Type::Tuple(t) if t.elems.is_empty() => Ok(Ty::Unit),
        Type::Tuple(t) => {
            if t.elems.len() > 8 {
                return Err("tuple of more than 8 elements".into());
            }
            Ok(Ty::Tuple(
                t.elems.iter().map(element).collect::<Result<_, _>>()?,
            ))
        }
        Type::Path(p) if p.qself.is_none() => classify_path(&p.path),
        Type::ImplTrait(_) => Err(format!(
            "`{}` argument: instantiating `impl Trait` is not supported yet",
            tokens(ty)
        )),
        Type::TraitObject(_) => Err(format!("trait object `{}` cannot be generated", tokens(ty))),
        Type::BareFn(_) => Err(format!(
            "function pointer `{}` cannot be generated",
            tokens(ty)
        )),
        Type::Ptr(_) => Err(format!(
            "raw pointer `{}` cannot be generated safely",
            tokens(ty)
        )),
        Type::Never(_) => Err("the never type has no values".into()),
        _ => Err(format!("type `{}` is not supported", tokens(ty))),
    }
}

/// An element inside a container: references there must not be mutable.
fn element(ty: &Type) -> Result<Ty, String> {
    let t = classify(ty)?;
    if let Ty::Ref { mutable: true, .. } = t {
        return Err(format!(
            "`{}` inside a container: mutable references cannot be nested",
            tokens(ty)
        ));
    }
    if let Ty::Ref { inner, .. } = &t {
        if inner.has_ref() && !matches!(**inner, Ty::Str | Ty::Slice(_)) {
            return Err(format!(
                "`{}` inside a container: a reference to a borrowing type",
                tokens(ty)
            ));
        }
        if let Ty::Slice(e) = &**inner {
            if e.has_ref() {
                return Err(format!(
                    "`{}` inside a container: a slice of references",
                    tokens(ty)
                ));
            }
        }
    }
    Ok(t)
}

/// std paths we recognise, by their last segment; the prefix must be a std crate if given.
fn classify_path(path: &syn::Path) -> Result<Ty, String> {
    let seg = path.segments.last().ok_or("empty type path")?;
    let name = seg.ident.to_string();
    let prefix: Vec<String> = path
        .segments
        .iter()
        .rev()
        .skip(1)
        .map(|s| s.ident.to_string())
        .collect();
    let std_prefix = prefix.is_empty()
        || matches!(
            prefix.last().map(String::as_str),
            Some("std" | "core" | "alloc")
        );
    let args = generic_types(&seg.arguments);
    let own_type = || {
        Err(format!(
            "`{}` is not a std type the harness can generate (the crate's own types, aliases and generics are supported in a later version)",
            tokens(path)
        ))
    };
    if !std_prefix {
        return own_type();
    }
    if let Some(p) = PRIMS.iter().find(|p| **p == name) {
        return if args.is_empty() {
            Ok(Ty::Prim(p))
        } else {
            own_type()
        };
    }
    let one = |args: &[&Type]| -> Result<Ty, String> {
        match args {
            [t] => element(t),
            _ => Err(format!("`{}` needs one type argument", tokens(path))),
        }
    };
    match (name.as_str(), args.as_slice()) {
        ("String", []) => Ok(Ty::String),
        ("str", []) => Ok(Ty::Str),
        ("Vec", a) => Ok(Ty::Vec(Box::new(one(a)?))),
        ("Option", a) => Ok(Ty::Option(Box::new(one(a)?))),
        ("Box", [t]) => match classify(t)? {
            Ty::Str | Ty::Slice(_) => Err(format!(
                "`{}`: unsized box contents are not supported yet",
                tokens(path)
            )),
            inner => Ok(Ty::Box(Box::new(inner))),
        },
        ("Result", [t, e]) => Ok(Ty::Result(Box::new(element(t)?), Box::new(element(e)?))),
        ("Result", [_]) => Err(format!(
            "`{}` is a `Result` alias with a crate-defined error type (not supported yet)",
            tokens(path)
        )),
        ("HashMap" | "BTreeMap", [k, v]) => {
            let key = element(k)?;
            if !key.is_key() {
                return Err(format!(
                    "`{}`: the key type cannot be hashed or ordered",
                    tokens(path)
                ));
            }
            Ok(Ty::Map {
                ordered: name == "BTreeMap",
                key: Box::new(key),
                value: Box::new(element(v)?),
            })
        }
        ("HashSet" | "BTreeSet", [k]) => {
            let key = element(k)?;
            if !key.is_key() {
                return Err(format!(
                    "`{}`: the element type cannot be hashed or ordered",
                    tokens(path)
                ));
            }
            Ok(Ty::Set {
                ordered: name == "BTreeSet",
                key: Box::new(key),
            })
        }
        ("HashMap" | "HashSet", _) => Err(format!(
            "`{}`: a custom hasher is not supported",
            tokens(path)
        )),
        ("Cow", [t]) if classify(t) == Ok(Ty::Str) => Ok(Ty::CowStr),
        _ => own_type(),
    }
}

/// The type arguments of a path segment (lifetimes dropped).
fn generic_types(args: &PathArguments) -> Vec<&Type> {
    match args {
        PathArguments::AngleBracketed(a) => a
            .args
            .iter()
            .filter_map(|g| match g {
                GenericArgument::Type(t) => Some(t),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn tokens(t: &impl ToTokens) -> String {
    let s = t.to_token_stream().to_string();
    // Token streams print with spaces around every punctuation; tighten the common cases.
    s.replace(" < ", "<")
        .replace(" <", "<")
        .replace("< ", "<")
        .replace(" >", ">")
        .replace("& ", "&")
        .replace(" ,", ",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(s: &str) -> Result<Ty, String> {
        classify(&syn::parse_str::<Type>(s).unwrap())
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
        assert!(ty("Rect").unwrap_err().contains("`Rect` is not a std type"));
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
            doc: String::new(),
            cfg_attrs: vec![],
            literals: Default::default(),
            skip: None,
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
        assert!(why.starts_with("argument `#1`"), "{why}");
        let Plan::Skip(why) = plan(&changed("fn g<T: Ord>(v: &[T]) {}")) else {
            panic!()
        };
        assert!(why.contains("type parameter `T`"), "{why}");
        let Plan::Skip(why) = plan(&changed("fn h(r: Rect) {}")) else {
            panic!()
        };
        assert!(why.starts_with("argument `r`: `Rect`"), "{why}");
        let mut m = changed("fn new(x: u8) -> Self { todo!() }");
        m.kind = FnKind::Inherent {
            self_ty: Box::new(syn::parse_quote!(Stack)),
            impl_generics: Default::default(),
        };
        let Plan::Call(p) = plan(&m) else { panic!() };
        assert_eq!(p.ret.to_token_stream().to_string(), "-> Stack");
        assert_eq!(
            p.callee.to_token_stream().to_string(),
            "super :: Stack :: new"
        );
    }
}
