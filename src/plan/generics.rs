//! Type parameters and `impl Trait`: a concrete type that meets the bounds.

use syn::{GenericArgument, PathArguments, Type};

use super::*;
use crate::types::CrateTypes;

/// The arguments and output of a `Fn`, `FnMut` or `FnOnce` bound.
pub(super) fn fn_bound(b: &syn::TypeParamBound) -> Option<&syn::ParenthesizedGenericArguments> {
    let syn::TypeParamBound::Trait(t) = b else {
        return None;
    };
    let last = t.path.segments.last()?;
    match (&last.arguments, last.ident.to_string().as_str()) {
        (PathArguments::Parenthesized(p), "Fn" | "FnMut" | "FnOnce") => Some(p),
        _ => None,
    }
}

/// Every bound on type parameter `ident`: inline and in the where clause.
pub(super) fn bounds_of<'g>(
    ident: &syn::Ident,
    inline: &'g syn::punctuated::Punctuated<syn::TypeParamBound, syn::Token![+]>,
    where_clause: Option<&'g syn::WhereClause>,
) -> Vec<&'g syn::TypeParamBound> {
    let mut out: Vec<&syn::TypeParamBound> = inline.iter().collect();
    for pred in where_clause.iter().flat_map(|w| w.predicates.iter()) {
        if let syn::WherePredicate::Type(pt) = pred {
            if let Type::Path(p) = &pt.bounded_ty {
                if p.path.is_ident(ident) {
                    out.extend(pt.bounds.iter());
                }
            }
        }
    }
    out
}

/// A concrete type that meets `bounds`: `String` for string-like bounds, `Vec<u8>` for
/// byte-like ones, `Vec<X>` for `IntoIterator<Item = X>`, else `i32`, which meets the
/// common numeric, ordering, hashing, formatting and conversion bounds. A wrong guess does not
/// compile, and the target is then dropped with the compiler's reason.
pub(super) fn instantiate(
    bounds: &[&syn::TypeParamBound],
    types: &CrateTypes,
) -> Result<Type, String> {
    let mut chosen: Option<Type> = None;
    // A trait of the crate's own: a crate type that implements every such bound.
    let local: Vec<String> = bounds
        .iter()
        .filter_map(|b| match b {
            syn::TypeParamBound::Trait(t) => t.path.segments.last().map(|s| s.ident.to_string()),
            _ => None,
        })
        .filter(|name| types.implementors(name).next().is_some())
        .collect();
    if let Some(first) = local.first() {
        // Implementors that are the crate's own types (not `Box<dyn Trait>` or a foreign type).
        let fits = types.implementors(first).find_map(|ty| {
            let all = local.iter().all(|t| types.implementors(t).any(|i| i == ty));
            all.then(|| types.path_of(ty)).flatten()
        });
        // Or a std type the crate implements it for (`impl Word for u32`).
        let std_fit = || {
            types.implementors(first).find_map(|ty| {
                let all = local.iter().all(|t| types.implementors(t).any(|i| i == ty));
                let plain = PRIMS.contains(&ty) || ty == "String";
                (all && plain)
                    .then(|| syn::parse_str::<Type>(ty).ok())
                    .flatten()
            })
        };
        match fits.map(|path| syn::parse_quote!(#path)).or_else(std_fit) {
            Some(ty) => chosen = Some(ty),
            None => {
                return Err(format!(
                    "it is bounded by the crate's trait `{first}`, and no type the harness can make implements it"
                ))
            }
        }
    }
    // A crate trait nothing implements in a way the scan sees (impls made by macros, blanket
    // impls): a stand-in type would not compile, so say so.
    let declared_unmet = bounds.iter().find_map(|b| match b {
        syn::TypeParamBound::Trait(t) => {
            let name = t.path.segments.last()?.ident.to_string();
            (types.declares_trait(&name) && types.implementors(&name).next().is_none())
                .then_some(name)
        }
        _ => None,
    });
    if let Some(name) = declared_unmet {
        return Err(format!(
            "it is bounded by the crate's trait `{name}`, which no type of the crate visibly implements (impls made by macros or blanket impls are not followed)"
        ));
    }
    for b in bounds {
        let syn::TypeParamBound::Trait(t) = b else {
            continue;
        };
        let Some(last) = t.path.segments.last() else {
            continue;
        };
        let name = last.ident.to_string();
        let args = generic_types(&last.arguments);
        let arg = args.first().map(|a| tokens(*a)).unwrap_or_default();
        let pick: Option<Type> = match (name.as_str(), arg.as_str()) {
            // A closure: the wrapper takes `impl Fn…`, and the harness passes a generated one.
            ("Fn" | "FnMut" | "FnOnce", _) => {
                let bound = *b;
                return Ok(syn::parse_quote!(impl #bound));
            }
            ("AsRef" | "Borrow", "str")
            | ("Into", "String")
            | ("Into", "Cow<'static, str>")
            | ("AsRef", "Path")
            | ("AsRef", "OsStr") => Some(syn::parse_quote!(std::string::String)),
            ("AsRef" | "Borrow", "[u8]") | ("Into", "Vec<u8>") => {
                Some(syn::parse_quote!(std::vec::Vec<u8>))
            }
            // Writers: `fmt::Write` (and a bare `Write`) into a `String`, `io::Write` into bytes.
            ("Write", _) if t.path.segments.iter().any(|s| s.ident == "io") => {
                Some(syn::parse_quote!(std::vec::Vec<u8>))
            }
            ("Write", _) => Some(syn::parse_quote!(std::string::String)),
            ("FromIterator" | "Extend", "char" | "&str" | "String") => {
                Some(syn::parse_quote!(std::string::String))
            }
            ("FromIterator" | "Extend", _) if !args.is_empty() => {
                let x = args[0];
                Some(syn::parse_quote!(std::vec::Vec<#x>))
            }
            // Any other `Into<X>`, `AsRef<X>` or `Borrow<X>`: `X` itself meets it.
            ("Into" | "AsRef" | "Borrow", _) if !args.is_empty() => {
                let x = args[0];
                match x {
                    Type::Slice(_) | Type::TraitObject(_) => None,
                    Type::Path(p) if p.path.is_ident("str") => None,
                    _ => Some(x.clone()),
                }
            }
            ("IntoIterator", _) => {
                let item = match &last.arguments {
                    PathArguments::AngleBracketed(a) => a.args.iter().find_map(|g| match g {
                        GenericArgument::AssocType(at) if at.ident == "Item" => Some(at.ty.clone()),
                        _ => None,
                    }),
                    _ => None,
                };
                let item = item.ok_or("`IntoIterator` without an `Item` type")?;
                Some(syn::parse_quote!(std::vec::Vec<#item>))
            }
            ("Iterator", _) => {
                return Err("iterator parameter: generating iterators is not supported yet".into())
            }
            _ => None,
        };
        if let Some(p) = pick {
            chosen = Some(p);
        }
    }
    Ok(chosen.unwrap_or_else(|| syn::parse_quote!(i32)))
}
