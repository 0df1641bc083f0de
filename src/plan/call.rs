//! Plans one call: the function's parameters, receiver and result, with type parameters instantiated.

use quote::ToTokens;
use syn::{FnArg, GenericArgument, PathArguments, ReturnType, Type};

use super::*;
use crate::select::{ChangedFn, FnKind};
use crate::types::{mentions_private, CrateTypes};

pub(super) fn plan_call(f: &ChangedFn, types: &CrateTypes) -> Result<CallPlan, SkipReason> {
    let sig = &f.sig;
    if let FnKind::TraitImpl { trait_path, .. } = &f.kind {
        if trait_path
            .segments
            .last()
            .is_some_and(|s| s.ident == "Drop")
        {
            return Err(SkipReason::Drop);
        }
    }
    // A generic impl (`impl<T: AsRef<[u8]>> ToHex for T`) is instantiated like a generic fn.
    let pre = instantiate_impl(f, types)?;
    let original_kind = f.kind.clone();
    let f = &ChangedFn {
        kind: substitute_kind(&f.kind, &pre),
        ..f.clone()
    };
    let self_ty = match &f.kind {
        FnKind::Free => None,
        FnKind::Inherent { self_ty, .. } | FnKind::TraitImpl { self_ty, .. } => Some(&**self_ty),
    };
    let mut env = Env::new(types, &f.module, self_ty);
    env.subst = pre.subst;
    if sig.generics.const_params().next().is_some() {
        return Err(SkipReason::ConstGeneric { on_impl: false });
    }
    if sig.variadic.is_some() {
        return Err(SkipReason::Variadic);
    }
    instantiate_fn_params(&mut env, f, types)?;
    let callee = callee_path(f);
    let format = format_spec(f);
    let args = plan_args(&env, f, types, format.is_some())?;
    let ret = match &sig.output {
        _ if format.is_some() => syn::parse_quote!(-> std::string::String),
        ReturnType::Type(arrow, ty) => {
            if let Type::ImplTrait(_) = &**ty {
                ReturnType::Type(*arrow, ty.clone())
            } else {
                ReturnType::Type(*arrow, Box::new(env.substitute(&outside_impl(ty, &f.kind))))
            }
        }
        out => out.clone(),
    };
    let generics = wrapper_generics(f, &env);
    let type_args = turbofish_types(f, &env);
    let instantiated_self = match (&f.kind, &original_kind) {
        (
            FnKind::Inherent { self_ty, .. } | FnKind::TraitImpl { self_ty, .. },
            FnKind::Inherent { self_ty: was, .. } | FnKind::TraitImpl { self_ty: was, .. },
        ) if self_ty != was && nameable(self_ty) => Some((**self_ty).clone()),
        _ => None,
    };
    let (ret, result) = match format {
        Some(spec) => (ret, ResultUse::Format(spec)),
        None => result_use(&env, f, types, ret),
    };
    Ok(CallPlan {
        args,
        ret,
        callee,
        generics,
        result,
        type_args,
        instantiated_self,
    })
}

/// Whether a test next to the function can name `t`: a std type, not a path of the harness
/// (`super::`, an entry module) or a type that cannot be written (`impl Fn(u8) -> bool`).
fn nameable(t: &Type) -> bool {
    let text = quote::ToTokens::to_token_stream(t).to_string();
    !text
        .split(|c: char| !c.is_alphanumeric() && c != '_')
        .any(|w| {
            ["super", "crate", "self", "Self", "impl", "_"].contains(&w)
                || w.starts_with("edgecheck")
        })
}

/// The types chosen for `f`'s own type parameters, when each is a std type a test next to the
/// function can name (a crate type's path here is the harness's, not the test's).
fn turbofish_types(f: &ChangedFn, env: &Env) -> Vec<Type> {
    let chosen: Option<Vec<Type>> = f
        .sig
        .generics
        .type_params()
        .map(|tp| env.subst.get(&tp.ident.to_string()).cloned())
        .collect();
    match chosen {
        Some(types) if types.iter().all(nameable) => types,
        _ => Vec::new(),
    }
}

/// The impl's type parameters, instantiated: by the declared default of the self type's
/// parameter when it has no bound, else by a type that meets the bounds.
fn instantiate_impl<'a>(f: &'a ChangedFn, types: &'a CrateTypes) -> Result<Env<'a>, SkipReason> {
    let mut pre = Env::new(types, &f.module, None);
    let (FnKind::Inherent { impl_generics, .. } | FnKind::TraitImpl { impl_generics, .. }) =
        &f.kind
    else {
        return Ok(pre);
    };
    if impl_generics.const_params().next().is_some() {
        return Err(SkipReason::ConstGeneric { on_impl: true });
    }
    let impl_self = match &f.kind {
        FnKind::Inherent { self_ty, .. } | FnKind::TraitImpl { self_ty, .. } => Some(&**self_ty),
        FnKind::Free => None,
    };
    for tp in impl_generics.type_params() {
        let bounds = bounds_of(&tp.ident, &tp.bounds, impl_generics.where_clause.as_ref());
        // `impl<T> HeaderMap<T>` of `struct HeaderMap<T = HeaderValue>`: the declared
        // default is the type the crate's constructors (`impl HeaderMap { fn new() }`) make.
        if bounds.is_empty() {
            if let Some(default) = impl_self
                .and_then(|st| declared_default(st, &tp.ident.to_string(), types, &f.module))
            {
                pre.subst.insert(tp.ident.to_string(), default);
                continue;
            }
        }
        let chosen = instantiate(&bounds, types).map_err(|why| SkipReason::TypeParameter {
            name: tp.ident.to_string(),
            on_impl: true,
            why,
        })?;
        let chosen = pre.substitute(&chosen);
        pre.subst.insert(tp.ident.to_string(), chosen);
    }
    Ok(pre)
}

/// `kind` with the impl's type parameters replaced by the types chosen for them.
fn substitute_kind(kind: &FnKind, pre: &Env) -> FnKind {
    match kind {
        FnKind::Free => FnKind::Free,
        FnKind::Inherent {
            self_ty,
            impl_generics,
        } => FnKind::Inherent {
            self_ty: Box::new(pre.substitute(self_ty)),
            impl_generics: impl_generics.clone(),
        },
        FnKind::TraitImpl {
            self_ty,
            trait_path,
            impl_generics,
        } => FnKind::TraitImpl {
            self_ty: Box::new(pre.substitute(self_ty)),
            trait_path: match pre.substitute(&Type::Path(syn::TypePath {
                qself: None,
                path: trait_path.clone(),
            })) {
                Type::Path(p) => p.path,
                _ => trait_path.clone(),
            },
            impl_generics: impl_generics.clone(),
        },
    }
}

/// Type parameters and `impl Trait` arguments get concrete types that meet their bounds.
/// Closure parameters last, so their signatures see the other parameters' choices.
fn instantiate_fn_params(
    env: &mut Env,
    f: &ChangedFn,
    types: &CrateTypes,
) -> Result<(), SkipReason> {
    let sig = &f.sig;
    let mut params: Vec<&syn::TypeParam> = sig.generics.type_params().collect();
    params.sort_by_key(|tp| {
        bounds_of(&tp.ident, &tp.bounds, sig.generics.where_clause.as_ref())
            .iter()
            .any(|b| fn_bound(b).is_some())
    });
    for tp in params {
        let bounds = bounds_of(&tp.ident, &tp.bounds, sig.generics.where_clause.as_ref());
        let chosen = instantiate(&bounds, types).map_err(|why| SkipReason::TypeParameter {
            name: tp.ident.to_string(),
            on_impl: false,
            why,
        })?;
        let chosen = env.substitute(&chosen);
        env.subst.insert(tp.ident.to_string(), chosen);
    }
    Ok(())
}

/// A generator for each argument (for a formatting `fmt`, the receiver only: it is called
/// through `format!`).
fn plan_args(
    env: &Env,
    f: &ChangedFn,
    types: &CrateTypes,
    receiver_only: bool,
) -> Result<Vec<ArgPlan>, SkipReason> {
    let self_ty = env.self_ty;
    let mut args = Vec::new();
    let inputs = f
        .sig
        .inputs
        .iter()
        .take(if receiver_only { 1 } else { usize::MAX });
    for (i, input) in inputs.enumerate() {
        match input {
            FnArg::Receiver(r) => {
                if self_ty.is_none() {
                    return Err(SkipReason::SelfOutsideImpl);
                }
                let written = outside_impl(&r.ty, &f.kind);
                let ty = env.classify(&written).map_err(|why| SkipReason::Receiver {
                    written: tokens(&written),
                    why,
                })?;
                let ty = with_steps(ty, env, &f.name);
                let in_crate = ty.has_private();
                args.push(ArgPlan {
                    ty,
                    written,
                    in_crate,
                });
            }
            FnArg::Typed(pt) => {
                let name = match &*pt.pat {
                    syn::Pat::Ident(id) => id.ident.to_string(),
                    _ => format!("#{}", i + 1),
                };
                let written = match &*pt.ty {
                    Type::ImplTrait(it) => {
                        let bounds: Vec<&syn::TypeParamBound> = it.bounds.iter().collect();
                        let chosen = instantiate(&bounds, types).map_err(|why| {
                            SkipReason::ImplTraitArgument {
                                name: name.clone(),
                                written: tokens(&*pt.ty),
                                why,
                            }
                        })?;
                        env.substitute(&outside_impl(&chosen, &f.kind))
                    }
                    t => env.substitute(&outside_impl(t, &f.kind)),
                };
                let ty = env.classify(&written).map_err(|why| SkipReason::Argument {
                    name: name.clone(),
                    why,
                })?;
                let in_crate = ty.has_private();
                args.push(ArgPlan {
                    ty,
                    written,
                    in_crate,
                });
            }
        }
    }
    Ok(args)
}

/// The wrapper's generics: the lifetimes stay, instantiated type parameters and their bounds
/// go; the impl's lifetimes (`impl<'a> Word<'a>`) appear in the signature too and come first.
fn wrapper_generics(f: &ChangedFn, env: &Env) -> syn::Generics {
    let mut generics = f.sig.generics.clone();
    if !env.subst.is_empty() {
        generics.params = generics
            .params
            .into_iter()
            .filter(|p| matches!(p, syn::GenericParam::Lifetime(_)))
            .collect();
        generics.where_clause = None;
    }
    if let FnKind::Inherent { impl_generics, .. } | FnKind::TraitImpl { impl_generics, .. } =
        &f.kind
    {
        let lifetimes: Vec<syn::GenericParam> = impl_generics
            .params
            .iter()
            .filter(|p| matches!(p, syn::GenericParam::Lifetime(_)))
            .cloned()
            .collect();
        if !lifetimes.is_empty() {
            let own = std::mem::take(&mut generics.params);
            generics.params = lifetimes.into_iter().chain(own).collect();
            if generics.lt_token.is_none() {
                generics.lt_token = Some(Default::default());
                generics.gt_token = Some(Default::default());
            }
        }
    }
    generics
}

/// What the wrapper does with the result, and the return type it declares for that.
fn result_use(
    env: &Env,
    f: &ChangedFn,
    types: &CrateTypes,
    ret: ReturnType,
) -> (ReturnType, ResultUse) {
    if let ReturnType::Type(_, t) = &ret {
        if let Type::ImplTrait(it) = &**t {
            // A returned iterator is lazy: drain it (up to a cap) so its panics show, and
            // compare its items. Other opaque results cannot be named: they are dropped.
            return match it.bounds.iter().find_map(iterator_item) {
                Some(item) => {
                    let item = env.substitute(&outside_impl(item, &f.kind));
                    (syn::parse_quote!(-> std::vec::Vec<#item>), ResultUse::Drain)
                }
                None => (ReturnType::Default, ResultUse::Discard),
            };
        }
    }
    // An elided lifetime in the result (`-> Cow<'_, str>`) borrowed from the one reference
    // argument is ambiguous once a type parameter became a type with a lifetime: drop the result.
    let instantiated_lifetimes = env
        .subst
        .values()
        .any(|t| t.to_token_stream().to_string().contains('\''));
    if instantiated_lifetimes && matches!(&ret, ReturnType::Type(_, t) if has_elided_lifetime(t)) {
        return (ReturnType::Default, ResultUse::Discard);
    }
    // A result of a type the harness cannot name is observed inside the crate.
    match &ret {
        ReturnType::Type(_, t) if mentions_private(t, &f.module, types) => (
            syn::parse_quote!(-> std::option::Option<std::string::String>),
            ResultUse::ObserveInCrate,
        ),
        _ => (ret, ResultUse::Return),
    }
}

/// Whether `ty` has an elided lifetime: `&T` without one, or `'_`.
pub(super) fn has_elided_lifetime(ty: &Type) -> bool {
    use syn::visit::Visit;
    struct Elided(bool);
    impl<'ast> Visit<'ast> for Elided {
        fn visit_type_reference(&mut self, r: &'ast syn::TypeReference) {
            self.0 |= r.lifetime.is_none();
            syn::visit::visit_type_reference(self, r);
        }
        fn visit_lifetime(&mut self, l: &'ast syn::Lifetime) {
            self.0 |= l.ident == "_";
        }
    }
    let mut v = Elided(false);
    v.visit_type(ty);
    v.0
}

/// The `Item` type of an `Iterator<Item = X>` bound.
pub(super) fn iterator_item(b: &syn::TypeParamBound) -> Option<&Type> {
    let syn::TypeParamBound::Trait(t) = b else {
        return None;
    };
    let last = t.path.segments.last()?;
    if last.ident != "Iterator"
        && last.ident != "DoubleEndedIterator"
        && last.ident != "ExactSizeIterator"
    {
        return None;
    }
    let PathArguments::AngleBracketed(a) = &last.arguments else {
        return None;
    };
    a.args.iter().find_map(|g| match g {
        GenericArgument::AssocType(at) if at.ident == "Item" => Some(&at.ty),
        _ => None,
    })
}

/// The path from the injected entry module to the function.
pub(super) fn callee_path(f: &ChangedFn) -> syn::ExprPath {
    let name = &f.sig.ident;
    match &f.kind {
        FnKind::Free => syn::parse_quote!(super::#name),
        // The self type as the impl writes it: the entry module sees the same names
        // (`use super::*`), and it may be a std type (`impl FromHex for Vec<u8>`).
        FnKind::Inherent { self_ty, .. } => syn::parse_quote!(<#self_ty>::#name),
        FnKind::TraitImpl {
            self_ty,
            trait_path,
            ..
        } => syn::parse_quote!(<#self_ty as #trait_path>::#name),
    }
}

/// `ty` as a wrapper outside the function's impl writes it.
pub(super) fn outside_impl(ty: &Type, kind: &FnKind) -> Type {
    match kind {
        FnKind::Free => ty.clone(),
        FnKind::Inherent { self_ty, .. } => replace_self(ty, self_ty),
        FnKind::TraitImpl {
            self_ty,
            trait_path,
            ..
        } => replace_self_in(ty, self_ty, Some(trait_path)),
    }
}
