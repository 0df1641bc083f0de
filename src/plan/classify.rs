//! What a written type is: a std type the harness generates, a crate type, or the reason it cannot be.

use quote::ToTokens;
use syn::{GenericArgument, PathArguments, ReturnType, Type};

use super::*;

impl Env<'_> {
    /// The generator tree for a written type, or why there is none.
    pub fn classify(&self, ty: &Type) -> Result<Ty, String> {
        match ty {
            Type::Paren(p) => self.classify(&p.elem),
            Type::Group(g) => self.classify(&g.elem),
            Type::Reference(r) => {
                let inner = self.classify(&r.elem)?;
                if r.mutability.is_some() && inner == Ty::Str {
                    return Err("`&mut str` cannot be generated".into());
                }
                // `&mut Vec<&str>` is fine at the top: the harness passes a local it built.
                // Inside containers `element` refuses mutable references.
                Ok(Ty::Ref {
                    mutable: r.mutability.is_some(),
                    inner: Box::new(inner),
                })
            }
            Type::Slice(s) => Ok(Ty::Slice(Box::new(self.element(&s.elem)?))),
            Type::Array(a) => {
                let len = match &a.len {
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Int(n),
                        ..
                    }) => n.base10_parse::<usize>().ok(),
                    // A constant of the crate (`[u8; MAX_LEN]`).
                    syn::Expr::Path(p) => p
                        .path
                        .segments
                        .last()
                        .and_then(|s| self.types.const_value(&s.ident.to_string())),
                    _ => None,
                };
                let len = len
                    .ok_or_else(|| format!("array length `{}` is not a number", tokens(&a.len)))?;
                if len > 4096 {
                    return Err(format!("array of {len} elements is too large to generate"));
                }
                Ok(Ty::Array(Box::new(self.element(&a.elem)?), len))
            }
            Type::Tuple(t) if t.elems.is_empty() => Ok(Ty::Unit),
            Type::Tuple(t) => {
                if t.elems.len() > 8 {
                    return Err("tuple of more than 8 elements".into());
                }
                Ok(Ty::Tuple(
                    t.elems
                        .iter()
                        .map(|t| self.element(t))
                        .collect::<Result<_, _>>()?,
                ))
            }
            Type::Path(p) if p.qself.is_none() => self.classify_path(&p.path),
            Type::ImplTrait(it) => match it.bounds.iter().find_map(fn_bound) {
                Some(args) => {
                    let ret = match &args.output {
                        ReturnType::Default => Ty::Unit,
                        ReturnType::Type(_, t) => self.element(t)?,
                    };
                    if ret.has_ref() {
                        return Err(format!(
                            "closure `{}` returns a reference: cannot be generated",
                            tokens(ty)
                        ));
                    }
                    Ok(Ty::Closure {
                        arity: args.inputs.len(),
                        ret: Box::new(ret),
                    })
                }
                None => Err(format!(
                    "`{}`: instantiating this `impl Trait` is not supported yet",
                    tokens(ty)
                )),
            },
            // `dyn Trait` of a trait the crate declares: a crate type that implements it (it
            // coerces where the `Box`, `&` or `Rc` around it is passed).
            Type::TraitObject(o) => {
                let implementor = o.bounds.iter().find_map(|b| match b {
                    syn::TypeParamBound::Trait(t) => {
                        let name = t.path.segments.last()?.ident.to_string();
                        let found = self
                            .types
                            .implementors(&name)
                            .find_map(|ty| self.types.path_of(ty));
                        found
                    }
                    _ => None,
                });
                match implementor {
                    Some(path) => self.classify(&syn::parse_quote!(#path)),
                    None => Err(format!(
                        "trait object `{}` cannot be generated (no type of the crate implements it)",
                        tokens(ty)
                    )),
                }
            }
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
    pub(super) fn element(&self, ty: &Type) -> Result<Ty, String> {
        let t = self.classify(ty)?;
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
    pub(super) fn classify_path(&self, path: &syn::Path) -> Result<Ty, String> {
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
        if path.is_ident("Self") {
            if let Some(self_ty) = self.self_ty {
                return self.classify(self_ty);
            }
        }
        if let Some(item) = self.types.find(path, self.module) {
            // A crate type shadows a std name only when written without a std prefix.
            if !std_prefix || prefix.is_empty() {
                return self.adt(item, &args);
            }
        }
        let own_type = || {
            Err(format!(
                "`{}` is neither a std type the harness can generate nor a struct, enum or alias declared in this crate",
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
                [t] => self.element(t),
                _ => Err(format!("`{}` needs one type argument", tokens(path))),
            }
        };
        match (name.as_str(), args.as_slice()) {
            ("String", []) => Ok(Ty::String),
            ("str", []) => Ok(Ty::Str),
            ("Vec", a) => Ok(Ty::Vec(Box::new(one(a)?))),
            ("Option", a) => Ok(Ty::Option(Box::new(one(a)?))),
            ("Box", [t]) => match self.classify(t)? {
                Ty::Str | Ty::Slice(_) => Err(format!(
                    "`{}`: unsized box contents are not supported yet",
                    tokens(path)
                )),
                inner => Ok(Ty::Box(Box::new(inner))),
            },
            ("Result", [t, e]) => Ok(Ty::Result(
                Box::new(self.element(t)?),
                Box::new(self.element(e)?),
            )),
            ("Result", [_]) => Err(format!(
                "`{}` is a `Result` alias with a crate-defined error type (not supported yet)",
                tokens(path)
            )),
            ("HashMap" | "BTreeMap" | "HashSet" | "BTreeSet", _) => {
                self.std_collection(path, &name, &args)
            }
            ("Cow", [t]) if self.classify(t) == Ok(Ty::Str) => Ok(Ty::CowStr),
            _ => self.std_wrapper(path, &name, &args),
        }
    }

    /// `HashMap`, `BTreeMap`, `HashSet`, `BTreeSet`, with keys that hash or order.
    fn std_collection(&self, path: &syn::Path, name: &str, args: &[&Type]) -> Result<Ty, String> {
        match (name, args) {
            ("HashMap" | "BTreeMap", [k, v]) => {
                let key = self.element(k)?;
                if !key.is_key() {
                    return Err(format!(
                        "`{}`: the key type cannot be hashed or ordered",
                        tokens(path)
                    ));
                }
                Ok(Ty::Map {
                    ordered: name == "BTreeMap",
                    key: Box::new(key),
                    value: Box::new(self.element(v)?),
                })
            }
            ("HashSet" | "BTreeSet", [k]) => {
                let key = self.element(k)?;
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
            _ => Err(format!(
                "`{}` is neither a std type the harness can generate nor a struct, enum or alias declared in this crate",
                tokens(path)
            )),
        }
    }

    /// The std wrappers made from a generated value: `Rc`, `Arc`, `Cell`, `RefCell`,
    /// `Wrapping`, `NonZero*`, `Duration`, `PathBuf`/`Path`, `OsString`/`OsStr`; any other
    /// name is not a type the harness can generate.
    fn std_wrapper(&self, path: &syn::Path, name: &str, args: &[&Type]) -> Result<Ty, String> {
        let own_type = || {
            Err(format!(
                "`{}` is neither a std type the harness can generate nor a struct, enum or alias declared in this crate",
                tokens(path)
            ))
        };
        match (name, args) {
            ("Rc" | "Arc" | "Cell" | "RefCell" | "Wrapping", [t]) => {
                let kind = match name {
                    "Rc" => Wrap::Rc,
                    "Arc" => Wrap::Arc,
                    "Cell" => Wrap::Cell,
                    "RefCell" => Wrap::RefCell,
                    _ => Wrap::Wrapping,
                };
                let inner = self.element(t)?;
                if inner.has_ref() {
                    return Err(format!("`{}` around a borrowing type", tokens(path)));
                }
                Ok(Ty::Wrap {
                    kind,
                    inner: Box::new(inner),
                })
            }
            ("NonZero", [t]) => match self.classify(t)? {
                Ty::Prim(p) if !matches!(p, "f32" | "f64" | "bool" | "char") => {
                    let (nz, _) = NON_ZERO
                        .iter()
                        .find(|(_, prim)| *prim == p)
                        .ok_or("no such NonZero type")?;
                    Ok(Ty::Wrap {
                        kind: Wrap::NonZero(nz),
                        inner: Box::new(Ty::Prim(p)),
                    })
                }
                _ => own_type(),
            },
            ("Duration", []) => Ok(Ty::Wrap {
                kind: Wrap::Duration,
                inner: Box::new(Ty::Tuple(vec![Ty::Prim("u64"), Ty::Prim("u32")])),
            }),
            // `&Path` is passed a `&PathBuf`, which derefs to it; likewise `&OsStr`.
            ("PathBuf" | "Path", []) => Ok(Ty::Wrap {
                kind: Wrap::PathBuf,
                inner: Box::new(Ty::String),
            }),
            ("OsString" | "OsStr", []) => Ok(Ty::Wrap {
                kind: Wrap::OsString,
                inner: Box::new(Ty::String),
            }),
            (n, []) if NON_ZERO.iter().any(|(nz, _)| *nz == n) => {
                let (nz, prim) = NON_ZERO
                    .iter()
                    .find(|(nz, _)| *nz == n)
                    .expect("just found");
                let prim = PRIMS.iter().find(|p| *p == prim).expect("a primitive");
                Ok(Ty::Wrap {
                    kind: Wrap::NonZero(nz),
                    inner: Box::new(Ty::Prim(prim)),
                })
            }
            _ => own_type(),
        }
    }
}

/// The type arguments of a path segment (lifetimes dropped).
pub(super) fn generic_types(args: &PathArguments) -> Vec<&Type> {
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

pub(super) fn tokens(t: &impl ToTokens) -> String {
    let s = t.to_token_stream().to_string();
    // Token streams print with spaces around every punctuation; tighten the common cases.
    s.replace(" < ", "<")
        .replace(" <", "<")
        .replace("< ", "<")
        .replace(" >", ">")
        .replace("& ", "&")
        .replace(" ,", ",")
        .replace(" ;", ";")
}
