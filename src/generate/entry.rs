//! The entry modules injected into the scratch copies: a `#[cfg(edgecheck)]` module in every
//! module on the way to a tested function, holding a wrapper per target (so the harness
//! reaches private functions) and a constructor per crate type it builds from its mirror.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::{by_tag, conv_expr, field_at, owned_type, Conv, ConvAt};
use crate::error::{Error, Result};
use crate::ids::TargetId;
use crate::plan::{AdtDef, CallPlan, CtorKind, Fields, ResultUse, Shape, Ty};
use crate::select::{ChangedFn, Module};
use crate::shadow::{Insertion, Piece};

/// Name of the module injected into every module on the way to a tested function.
pub const ENTRY_MODULE: &str = "__edgecheck_entry";

/// A function to expose through the entry modules.
pub struct Exposed<'a> {
    /// The harness target id; the wrapper is called `f<id>`.
    pub id: TargetId,
    pub func: &'a ChangedFn,
    pub plan: &'a CallPlan,
}

/// The path inside the entry modules at which a target's wrapper is reached from the crate root:
/// `__edgecheck_entry::m_a::m_b::f3`.
pub fn wrapper_path(module: &[String], id: TargetId) -> Vec<String> {
    let mut p = vec![ENTRY_MODULE.to_string()];
    p.extend(
        module
            .iter()
            .map(|m| format!("m_{}", m.trim_start_matches("r#"))),
    );
    p.push(id.wrapper_name());
    p
}

/// The path from the crate root to the constructor injected for target `id` of the crate type
/// `name` declared in `module`: `__edgecheck_entry::m_a::mk3_Rect`.
pub fn constructor_path(def: &AdtDef, id: TargetId) -> Vec<String> {
    let mut p = wrapper_path(&def.module, id);
    p.pop();
    p.push(constructor_name(id, def));
    p
}

/// Most items taken from a returned iterator: enough for lazy panics to show, bounded for
/// endless ones.
pub const DRAIN_CAP: usize = 10_000;

/// The panic message of a constructor that refused its generated arguments (`None`, `Err`):
/// the harness runtime passes over such an input. The runtime template spells it out too.
pub const REJECT_MESSAGE: &str = "edgecheck: input rejected by the type's constructor";

fn constructor_name(id: TargetId, def: &AdtDef) -> String {
    // One constructor per instantiation of a generic type.
    let instance = (!def.type_args.is_empty())
        .then(|| crate::ids::fnv1a(def.type_args.join(",").as_bytes()) as u32);
    id.constructor_name(
        def.name.trim_start_matches("r#"),
        matches!(def.shape, Shape::Steps { .. }),
        instance,
    )
}

/// The entry modules for `exposed`, as insertions into the package's files (paths relative to
/// the workspace root, where the scanned `modules` live under `ws_root`), for
/// [`shadow::splice`](crate::shadow::splice): one line per module on the way to a tested
/// function, with the wrappers of the functions in it and the constructors of the crate types
/// declared in it.
pub fn entry_modules(
    ws_root: &Path,
    modules: &[Module],
    exposed: &[Exposed],
) -> Result<BTreeMap<PathBuf, Vec<Insertion>>> {
    // Every module on the way from the root to a tested function gets an entry module.
    let mut needed: BTreeSet<Vec<String>> = BTreeSet::new();
    // The crate types each target builds, which get constructors next to their declaration.
    let adts: Vec<Vec<&AdtDef>> = exposed
        .iter()
        .map(|e| {
            let mut out = Vec::new();
            e.plan.args.iter().for_each(|a| a.ty.collect_adts(&mut out));
            out
        })
        .collect();
    for (e, adts) in exposed.iter().zip(&adts) {
        let modules = std::iter::once(&e.func.module).chain(adts.iter().map(|d| &d.module));
        for module in modules {
            for n in 0..=module.len() {
                needed.insert(module[..n].to_vec());
            }
        }
    }
    // Insertions per file: (line, char column or None for end of file, text pieces).
    let mut per_file: BTreeMap<PathBuf, Vec<Insertion>> = BTreeMap::new();
    for path in &needed {
        let Some(module) = modules.iter().find(|m| &m.path == path) else {
            return Err(Error::Usage(format!(
                "internal: module `{}` was not scanned",
                path.join("::")
            )));
        };
        let mut pieces: Vec<Piece> = Vec::new();
        // All generated code names std as `std::…`, which is this `extern crate std` in every
        // edition: `::std` does not exist in a `#![no_std]` crate, and in a 2015-edition crate
        // `::core` means `crate::core`.
        pieces.push(Piece::plumbing(format!(
            "#[cfg(edgecheck)] #[doc(hidden)] #[allow(warnings, unused, missing_docs, clippy::all)] pub mod {ENTRY_MODULE} {{ extern crate std; #[allow(unused_imports)] use super::*; "
        )));
        for child in needed
            .iter()
            .filter(|c| c.len() == path.len() + 1 && c.starts_with(path))
        {
            let child_mod = modules.iter().find(|m| &m.path == child);
            let cfgs = child_mod.map(|m| m.cfg_attrs.join(" ")).unwrap_or_default();
            let name = child.last().cloned().unwrap_or_default();
            pieces.push(Piece {
                code: format!(
                    "{cfgs} pub use super::{name}::{ENTRY_MODULE} as m_{}; ",
                    name.trim_start_matches("r#")
                ),
                target: None,
                child: Some(child.clone()),
            });
        }
        for e in exposed.iter().filter(|e| &e.func.module == path) {
            pieces.push(Piece::of_target(wrapper(e), e.id));
        }
        for (e, adts) in exposed.iter().zip(&adts) {
            for d in adts.iter().filter(|d| &d.module == path) {
                pieces.push(Piece::of_target(constructor(e.id, d), e.id));
            }
        }
        pieces.push(Piece::plumbing("}".to_string()));
        let rel = module
            .file
            .strip_prefix(ws_root)
            .map_err(|_| {
                Error::Usage(format!(
                    "{} is outside the workspace {}",
                    module.file.display(),
                    ws_root.display()
                ))
            })?
            .to_path_buf();
        per_file.entry(rel).or_default().push(Insertion {
            at: module.inline_close,
            pieces,
        });
    }
    Ok(per_file)
}

/// `pub fn f3<'a>(a0: &'a str, a1: usize) -> &'a str { super::truncate(a0, a1) }`, on one line.
fn wrapper(e: &Exposed) -> String {
    let name = format_ident!("{}", e.id.wrapper_name());
    let generics = &e.plan.generics;
    let where_clause = &generics.where_clause;
    let cx = Conv {
        at: ConvAt::InCrate,
        target: e.id,
    };
    // An argument of a type the harness cannot name comes as its mirror, built here.
    let params = e.plan.args.iter().enumerate().map(|(i, a)| {
        let id = format_ident!("a{}", i);
        if a.in_crate {
            let mirror = owned_type(&a.ty);
            // A value built from it may borrow it for the function's lifetime.
            match generics.lifetimes().next() {
                Some(l) => {
                    let l = &l.lifetime;
                    quote!(#id: &#l #mirror)
                }
                None => quote!(#id: &#mirror),
            }
        } else {
            let ty = &a.written;
            quote!(#id: #ty)
        }
    });
    let args: Vec<TokenStream> = e
        .plan
        .args
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let id = format_ident!("a{}", i);
            if a.in_crate {
                conv_expr(&a.ty, quote!(#id), 0, &cx)
            } else {
                quote!(#id)
            }
        })
        .collect();
    let ret = &e.plan.ret;
    let callee = &e.plan.callee;
    let cfgs = e.func.cfg_attrs.join(" ");
    let call = match e.plan.result {
        ResultUse::Format(spec) => quote!({ std::format!(#spec, #(#args),*) }),
        ResultUse::Drain => {
            let cap = DRAIN_CAP;
            quote!({
                std::iter::Iterator::collect(std::iter::Iterator::take(#callee(#(#args),*), #cap))
            })
        }
        ResultUse::Discard => quote!({ let _ = #callee(#(#args),*); }),
        ResultUse::ObserveInCrate => {
            // `Debug` text when the type has it (autoref picks the first impl that applies).
            quote!({
                let r = #callee(#(#args),*);
                struct O<'r, T>(&'r T);
                trait ViaDebug { fn obs(&self) -> std::option::Option<std::string::String>; }
                impl<T: std::fmt::Debug> ViaDebug for &O<'_, T> {
                    fn obs(&self) -> std::option::Option<std::string::String> {
                        std::option::Option::Some(std::format!("{:?}", self.0))
                    }
                }
                trait ViaNothing { fn obs(&self) -> std::option::Option<std::string::String>; }
                impl<T> ViaNothing for O<'_, T> {
                    fn obs(&self) -> std::option::Option<std::string::String> {
                        std::option::Option::None
                    }
                }
                (&O(&r)).obs()
            })
        }
        ResultUse::Return => quote!({ #callee(#(#args),*) }),
    };
    format!(
        "{cfgs} {} ",
        quote!(pub fn #name #generics (#(#params),*) #ret #where_clause #call)
    )
}

/// `pub fn mk3_Rect<'a>(m: &'a (u32, u32)) -> super::Rect { super::Rect { w: m.0.clone(), … } }`:
/// builds a crate type from its mirror, inside the declaring module so private fields are
/// reachable. It borrows the mirror, so types with lifetimes (`Word<'a>` holding a `&'a str`)
/// borrow from it.
fn constructor(id: TargetId, def: &AdtDef) -> String {
    let name = format_ident!("{}", constructor_name(id, def));
    let ty = syn::parse_str::<syn::Ident>(&def.name)
        .unwrap_or_else(|_| format_ident!("{}", def.name.trim_start_matches("r#")));
    let layout = def.mirror();
    let mirror = owned_type(&layout.ty);
    let cx = Conv {
        at: ConvAt::InCrate,
        target: id,
    };
    let at = |path: &[usize]| field_at(quote!(m), path);
    let build = |f: &Fields, paths: &[Vec<usize>], ctor: TokenStream| -> TokenStream {
        let values: Vec<TokenStream> = f
            .types()
            .iter()
            .zip(paths)
            .map(|(t, p)| conv_expr(t, at(p), 0, &cx))
            .collect();
        match f {
            Fields::Unit => ctor,
            Fields::Tuple(_) => quote!(#ctor(#(#values),*)),
            Fields::Named(named) => {
                let names = named.iter().map(|(n, _)| {
                    syn::parse_str::<syn::Ident>(n).unwrap_or_else(|_| format_ident!("{}", n))
                });
                quote!(#ctor { #(#names: #values),* })
            }
        }
    };
    let body = match &def.shape {
        Shape::Struct(f) => build(f, &layout.fields[0], quote!(super::#ty)),
        Shape::Enum(variants) => {
            let arms = variants.iter().enumerate().map(|(i, (v, f))| {
                let v = format_ident!("{}", v);
                build(f, &layout.fields[i], quote!(super::#ty::#v))
            });
            by_tag(at(&layout.tag), arms.collect())
        }
        Shape::Ctors(ctors) => {
            let arms = ctors.iter().enumerate().map(|(i, c)| {
                let f = format_ident!("{}", c.name);
                let call = match &c.args {
                    Fields::Unit => quote!(super::#ty::#f()),
                    args => build(args, &layout.fields[i], quote!(super::#ty::#f)),
                };
                let made = match c.kind {
                    CtorKind::Plain => call,
                    // The type, with its generic arguments, is the constructor's return type.
                    CtorKind::Default => quote!(std::default::Default::default()),
                    CtorKind::Option => quote!(match #call {
                        std::option::Option::Some(v) => v,
                        std::option::Option::None => std::panic!(#REJECT_MESSAGE),
                    }),
                    CtorKind::Result => quote!(match #call {
                        std::result::Result::Ok(v) => v,
                        std::result::Result::Err(_) => std::panic!(#REJECT_MESSAGE),
                    }),
                };
                // A constructor that panics on the generated arguments refuses them: building
                // the input is not the function under test (`from_str_unchecked("")` panicking
                // is no finding of the method called on its result).
                quote!(match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| #made)) {
                    std::result::Result::Ok(v) => v,
                    std::result::Result::Err(_) => std::panic!(#REJECT_MESSAGE),
                })
            });
            by_tag(at(&layout.tag), arms.collect())
        }
        Shape::Steps { base, methods } => {
            let make_base = conv_expr(&Ty::Adt(base.clone()), quote!(&m.0), 0, &cx);
            let arms = methods.iter().enumerate().map(|(i, c)| {
                let f = format_ident!("{}", c.name);
                let args: Vec<TokenStream> = c
                    .args
                    .types()
                    .iter()
                    .zip(&layout.fields[i])
                    .map(|(t, p)| conv_expr(t, field_at(quote!(s), p), 0, &cx))
                    .collect();
                quote!({ let _ = super::#ty::#f(&mut v #(, #args)*); })
            });
            let step = by_tag(field_at(quote!(s), &layout.tag), arms.collect());
            quote!({
                let mut v = #make_base;
                for s in &m.1 {
                    #step
                }
                v
            })
        }
    };
    let lifetimes = (0..def.lifetimes).map(|_| quote!('a));
    let type_args: Vec<syn::Type> = def
        .type_args
        .iter()
        .filter_map(|a| syn::parse_str(a).ok())
        .collect();
    let args = (def.lifetimes > 0 || !type_args.is_empty())
        .then(|| quote!(<#(#lifetimes,)* #(#type_args),*>));
    format!(
        "{} ",
        quote!(pub fn #name<'a>(m: &'a #mirror) -> super::#ty #args { #body })
    )
}
