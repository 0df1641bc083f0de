//! The crate's own types: from their fields, by variant, with their constructors, or by a sequence of their methods.

use std::collections::BTreeMap;

use quote::ToTokens;
use syn::{FnArg, ReturnType, Type};

use super::*;
use crate::types::{CrateTypes, TypeItem, TypeKind};

impl Env<'_> {
    /// `ty` with the instantiated type parameters replaced by their concrete types.
    pub(super) fn substitute(&self, ty: &Type) -> Type {
        use syn::visit_mut::VisitMut;
        struct Subst<'a>(&'a BTreeMap<String, Type>);
        impl VisitMut for Subst<'_> {
            fn visit_type_mut(&mut self, t: &mut Type) {
                if let Type::Path(p) = t {
                    if p.qself.is_none() && p.path.segments.len() == 1 {
                        let name = p.path.segments[0].ident.to_string();
                        if let Some(c) = self.0.get(&name) {
                            *t = c.clone();
                            return;
                        }
                    }
                }
                syn::visit_mut::visit_type_mut(self, t);
            }
        }
        let mut out = ty.clone();
        Subst(&self.subst).visit_type_mut(&mut out);
        out
    }

    /// The crate type `item` as a generator tree, or why it cannot be generated.
    pub(super) fn adt(&self, item: &TypeItem, args: &[&Type]) -> Result<Ty, String> {
        let args: Vec<Type> = args.iter().map(|a| self.substitute(a)).collect();
        let key = format!(
            "{}::{}<{}>",
            item.module.join("::"),
            item.name,
            args.iter().map(tokens).collect::<Vec<_>>().join(",")
        );
        if self.visiting.borrow().contains(&key) {
            return Err(format!(
                "`{}` is a recursive type: not supported yet",
                item.name
            ));
        }
        self.visiting.borrow_mut().push(key);
        let mut env = Env::new(self.types, &item.module, None);
        *env.visiting.borrow_mut() = self.visiting.borrow().clone();
        // A generic type's parameters take the written arguments (`Stack<i32>`).
        let params = item.type_params();
        if params.len() != args.len() && !params.is_empty() {
            self.visiting.borrow_mut().pop();
            return Err(format!(
                "`{}` is a generic type written without its type arguments",
                item.name
            ));
        }
        env.subst = params.into_iter().zip(args.iter().cloned()).collect();
        let out = env.adt_shape(item, &args);
        self.visiting.borrow_mut().pop();
        out
    }

    pub(super) fn adt_shape(&self, item: &TypeItem, type_args: &[Type]) -> Result<Ty, String> {
        // Lifetime parameters are fine (the value borrows from its generated mirror), and type
        // parameters have their arguments in `subst`.
        let generic = |g: &syn::Generics| {
            if g.const_params().next().is_none() {
                Ok(())
            } else {
                Err(format!(
                    "`{}` is a generic type: instantiating it is not supported yet",
                    item.name
                ))
            }
        };
        if let TypeKind::Alias(a) = &item.kind {
            generic(&a.generics)?;
            return self.classify(&self.substitute(&a.ty));
        }
        let from_fields = || -> Result<Shape, String> {
            Ok(match &item.kind {
                TypeKind::Alias(_) => unreachable!("handled above"),
                TypeKind::Struct(s) => {
                    generic(&s.generics)?;
                    // Private fields keep invariants that only the type's own code upholds:
                    // build such a value with its constructors when it has some.
                    let encapsulated = s
                        .fields
                        .iter()
                        .any(|f| !matches!(f.vis, syn::Visibility::Public(_)));
                    if encapsulated {
                        if let Ok(ctors) = self.constructors(item) {
                            return Ok(ctors);
                        }
                    }
                    Shape::Struct(self.fields(&s.fields, &format!("`{}`", item.name))?)
                }
                TypeKind::Enum(e) => {
                    generic(&e.generics)?;
                    self.enum_shape(item, e)?
                }
            })
        };
        let shape = match from_fields() {
            Ok(shape) => shape,
            Err(why) => self
                .constructors(item)
                .map_err(|none| format!("{why}; {none}"))?,
        };
        let lifetimes = match &item.kind {
            TypeKind::Struct(s) => s.generics.lifetimes().count(),
            TypeKind::Enum(e) => e.generics.lifetimes().count(),
            TypeKind::Alias(_) => 0,
        };
        let def = AdtDef {
            name: item.name.clone(),
            module: item.module.clone(),
            shape,
            lifetimes,
            type_args: type_args
                .iter()
                .map(|t| t.to_token_stream().to_string())
                .collect(),
            type_params: item.type_params(),
            reachable: item.reachable,
        };
        let parts = match &def.shape {
            Shape::Struct(f) => f.types().len(),
            Shape::Steps { .. } => 2,
            _ => {
                1 + def
                    .variant_fields()
                    .iter()
                    .map(|f| f.types().len())
                    .sum::<usize>()
            }
        };
        if parts > MIRROR_ARITY * MIRROR_ARITY {
            return Err(format!("`{}` has too many fields to generate", item.name));
        }
        Ok(Ty::Adt(Box::new(def)))
    }

    /// The generators of a struct's or a variant's fields (`what` names it in the reason).
    pub(super) fn fields(&self, f: &syn::Fields, what: &str) -> Result<Fields, String> {
        let field_ty = |t: &Type, name: &str| {
            self.element(&self.substitute(t))
                .map_err(|why| format!("field `{name}` of {what}: {why}"))
        };
        Ok(match f {
            syn::Fields::Named(n) => Fields::Named(
                n.named
                    .iter()
                    .map(|f| {
                        let name = f.ident.as_ref().map(|i| i.to_string()).unwrap_or_default();
                        field_ty(&f.ty, &name).map(|t| (name, t))
                    })
                    .collect::<Result<_, _>>()?,
            ),
            syn::Fields::Unnamed(u) => Fields::Tuple(
                u.unnamed
                    .iter()
                    .enumerate()
                    .map(|(i, f)| field_ty(&f.ty, &i.to_string()))
                    .collect::<Result<_, _>>()?,
            ),
            syn::Fields::Unit => Fields::Unit,
        })
    }

    /// An enum by variant: those whose fields cannot be generated are left out while one
    /// remains.
    fn enum_shape(&self, item: &TypeItem, e: &syn::ItemEnum) -> Result<Shape, String> {
        if e.variants.is_empty() {
            return Err(format!(
                "`{}` has no variants: no value to generate",
                item.name
            ));
        }
        if e.variants.len() > 256 {
            return Err(format!("`{}` has more than 256 variants", item.name));
        }
        // Variants whose fields cannot be generated are left out while one remains.
        let mut variants = Vec::new();
        let mut first_err = None;
        for v in &e.variants {
            let what = format!("`{}::{}`", item.name, v.ident);
            match self.fields(&v.fields, &what) {
                Ok(f) => variants.push((v.ident.to_string(), f)),
                Err(why) => {
                    first_err.get_or_insert(why);
                }
            }
        }
        match first_err {
            Some(why) if variants.is_empty() => Err(why),
            _ => Ok(Shape::Enum(variants)),
        }
    }
}

impl Env<'_> {
    /// The type's constructors whose arguments can all be generated, and `Default`; or why
    /// there are none.
    pub(super) fn constructors(&self, item: &TypeItem) -> Result<Shape, String> {
        let self_ty: Type = {
            let ident = syn::Ident::new(&item.name, proc_macro2::Span::call_site());
            syn::parse_quote!(#ident)
        };
        let mut ctors = Vec::new();
        for c in self.types.constructors_of(&item.name) {
            if c.sig.generics.type_params().next().is_some() {
                continue;
            }
            let ReturnType::Type(_, ret) = &c.sig.output else {
                continue;
            };
            let ret = replace_self(ret, &self_ty);
            let kind = match ctor_return(&ret, &item.name) {
                Some(k) => k,
                None => continue,
            };
            let mut env = Env::new(self.types, &c.module, Some(&self_ty));
            env.subst = self.subst.clone();
            *env.visiting.borrow_mut() = self.visiting.borrow().clone();
            let args: Result<Vec<Ty>, String> = c
                .sig
                .inputs
                .iter()
                .map(|a| match a {
                    FnArg::Typed(pt) => env.classify(&replace_self(&pt.ty, &self_ty)),
                    FnArg::Receiver(_) => Err("takes self".into()),
                })
                .collect();
            // A value that borrows must not borrow a temporary the conversion builds: a `&[X]`
            // or `&Vec<X>` of borrowing items is collected into a local that dies with the
            // constructor call.
            let borrows_temporary = |t: &Ty| match t {
                Ty::Ref { inner, .. } => match &**inner {
                    Ty::Str => false,
                    Ty::Slice(e) => e.has_ref(),
                    other => other.has_ref(),
                },
                _ => false,
            };
            let args = args.and_then(|a| {
                if item.has_lifetimes() && a.iter().any(borrows_temporary) {
                    Err("borrows a temporary".to_string())
                } else {
                    Ok(a)
                }
            });
            if let Ok(args) = args {
                ctors.push(Ctor {
                    name: c.sig.ident.to_string(),
                    kind,
                    args: if args.is_empty() {
                        Fields::Unit
                    } else {
                        Fields::Tuple(args)
                    },
                });
            }
        }
        // Constructors that cannot fail first, so more inputs are kept.
        ctors.sort_by_key(|c| c.kind != CtorKind::Plain);
        ctors.truncate(MAX_CTORS - 1);
        if self.types.has_default(&item.name) {
            ctors.push(Ctor {
                name: "default".into(),
                kind: CtorKind::Default,
                args: Fields::Unit,
            });
        }
        if ctors.is_empty() {
            return Err(format!(
                "and `{}` has no constructor whose arguments can be generated, nor `Default`",
                item.name
            ));
        }
        Ok(Shape::Ctors(ctors))
    }
}

/// Most `&mut self` methods a receiver's step sequence draws from.
pub(super) const MAX_STEP_METHODS: usize = 8;

/// A receiver type with its `&mut self` methods (other than `called`, whose arguments can be
/// generated) as steps applied before the call; the type itself when it has none.
pub(super) fn with_steps(ty: Ty, env: &Env, called: &str) -> Ty {
    match ty {
        Ty::Ref { mutable, inner } => Ty::Ref {
            mutable,
            inner: Box::new(with_steps(*inner, env, called)),
        },
        Ty::Adt(def) if !matches!(def.shape, Shape::Steps { .. }) => {
            let self_ty: Type = {
                let ident = syn::Ident::new(&def.name, proc_macro2::Span::call_site());
                syn::parse_quote!(#ident)
            };
            let mut methods = Vec::new();
            for m in env.types.mutators_of(&def.name) {
                if m.sig.ident == called || m.sig.generics.type_params().next().is_some() {
                    continue;
                }
                let mut menv = Env::new(env.types, &m.module, Some(&self_ty));
                for (param, arg) in def.type_params.iter().zip(&def.type_args) {
                    if let Ok(t) = syn::parse_str::<Type>(arg) {
                        menv.subst.insert(param.clone(), t);
                    }
                }
                let args: Result<Vec<Ty>, String> = m
                    .sig
                    .inputs
                    .iter()
                    .skip(1)
                    .map(|a| match a {
                        FnArg::Typed(pt) => {
                            menv.element(&menv.substitute(&replace_self(&pt.ty, &self_ty)))
                        }
                        FnArg::Receiver(_) => Err("a second receiver".into()),
                    })
                    .collect();
                if let Ok(args) = args {
                    methods.push(Ctor {
                        name: m.sig.ident.to_string(),
                        kind: CtorKind::Plain,
                        args: if args.is_empty() {
                            Fields::Unit
                        } else {
                            Fields::Tuple(args)
                        },
                    });
                }
                if methods.len() == MAX_STEP_METHODS {
                    break;
                }
            }
            if methods.is_empty() {
                return Ty::Adt(def);
            }
            Ty::Adt(Box::new(AdtDef {
                name: def.name.clone(),
                module: def.module.clone(),
                lifetimes: def.lifetimes,
                type_args: def.type_args.clone(),
                type_params: def.type_params.clone(),
                reachable: def.reachable,
                shape: Shape::Steps { base: def, methods },
            }))
        }
        other => other,
    }
}

/// The default a crate type declares for the generic parameter that `param` fills in `self_ty`
/// (`HeaderValue` for `T` in `HeaderMap<T>` of `struct HeaderMap<T = HeaderValue>`).
pub(super) fn declared_default(
    self_ty: &Type,
    param: &str,
    types: &CrateTypes,
    module: &[String],
) -> Option<Type> {
    let Type::Path(p) = self_ty else { return None };
    let item = types.find(&p.path, module)?;
    let syn::PathArguments::AngleBracketed(args) = &p.path.segments.last()?.arguments else {
        return None;
    };
    let position = args
        .args
        .iter()
        .filter(|a| matches!(a, syn::GenericArgument::Type(_)))
        .position(
            |a| matches!(a, syn::GenericArgument::Type(Type::Path(t)) if t.path.is_ident(param)),
        )?;
    item.generics()
        .type_params()
        .nth(position)
        .and_then(|tp| tp.default.clone())
}

/// How a constructor returning `ret` gives a value of type `name`.
pub(super) fn ctor_return(ret: &Type, name: &str) -> Option<CtorKind> {
    let Type::Path(p) = ret else { return None };
    let last = p.path.segments.last()?;
    if last.ident == name {
        return Some(CtorKind::Plain);
    }
    let first_arg = generic_types(&last.arguments).first().copied()?;
    let is_it = matches!(first_arg, Type::Path(a) if a.path.segments.last().is_some_and(|s| s.ident == name));
    match last.ident.to_string().as_str() {
        "Option" if is_it => Some(CtorKind::Option),
        "Result" if is_it => Some(CtorKind::Result),
        _ => None,
    }
}

/// `ty` with every `Self` replaced by `self_ty`, so a wrapper outside the impl can name it.
pub(super) fn replace_self(ty: &Type, self_ty: &Type) -> Type {
    replace_self_in(ty, self_ty, None)
}

/// Same as [`replace_self`], and in a trait impl, `Self::Err` becomes `<Type as Trait>::Err`.
pub(super) fn replace_self_in(ty: &Type, self_ty: &Type, trait_path: Option<&syn::Path>) -> Type {
    use syn::visit_mut::VisitMut;
    struct Replace<'a>(&'a Type, Option<&'a syn::Path>);
    impl VisitMut for Replace<'_> {
        fn visit_type_mut(&mut self, t: &mut Type) {
            if let Type::Path(p) = t {
                if p.qself.is_none() && p.path.is_ident("Self") {
                    *t = self.0.clone();
                    return;
                }
                let starts_with_self = p.qself.is_none()
                    && p.path.leading_colon.is_none()
                    && p.path.segments.len() > 1
                    && p.path.segments[0].ident == "Self";
                if let (true, Some(trait_path)) = (starts_with_self, self.1) {
                    let self_ty = self.0;
                    let rest = p.path.segments.iter().skip(1);
                    *t = syn::parse_quote!(<#self_ty as #trait_path>#(::#rest)*);
                    return;
                }
            }
            syn::visit_mut::visit_type_mut(self, t);
        }
    }
    let mut out = ty.clone();
    Replace(self_ty, trait_path).visit_type_mut(&mut out);
    out
}
