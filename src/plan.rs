//! Test plans: for each selected function, a generator for every argument, or the precise reason it cannot be tested.

use std::cell::RefCell;
use std::collections::BTreeMap;

use quote::ToTokens;
use syn::{FnArg, GenericArgument, PathArguments, ReturnType, Type};

mod describe;

pub use describe::ArgumentText;

use crate::select::{ChangedFn, FnKind};
use crate::types::{mentions_private, CrateTypes, TypeItem, TypeKind};

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
    /// A struct or enum of the crate, generated from its fields.
    Adt(Box<AdtDef>),
    /// A std wrapper made from a generated value of `inner`: `Rc`, `Arc`, `Cell`, `RefCell`,
    /// `Wrapping`, or a `NonZero` integer (zero becomes the type's `MIN`).
    Wrap {
        kind: Wrap,
        inner: Box<Ty>,
    },
    /// A closure (`impl Fn(A, B) -> R`, or a type parameter bounded so) that ignores its
    /// arguments and returns a generated value of `ret`.
    Closure {
        arity: usize,
        ret: Box<Ty>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wrap {
    Rc,
    Arc,
    Cell,
    RefCell,
    Wrapping,
    /// `NonZeroU32` and its kin; the name is the std type's (`NonZeroU32`).
    NonZero(&'static str),
    /// `Duration`, from whole seconds (`u64`) and nanoseconds (`u32`, taken modulo 10⁹ so the
    /// constructor cannot panic).
    Duration,
    /// `PathBuf` (and `Path` behind a reference), from a `String`.
    PathBuf,
    /// `OsString` (and `OsStr` behind a reference), from a `String`.
    OsString,
}

impl Wrap {
    /// The std path of the wrapper type.
    pub fn path(self) -> &'static str {
        match self {
            Wrap::Rc => "::std::rc::Rc",
            Wrap::Arc => "::std::sync::Arc",
            Wrap::Cell => "::std::cell::Cell",
            Wrap::RefCell => "::std::cell::RefCell",
            Wrap::Wrapping => "::std::num::Wrapping",
            Wrap::NonZero(_) => "::std::num",
            Wrap::Duration => "::std::time::Duration",
            Wrap::PathBuf => "::std::path::PathBuf",
            Wrap::OsString => "::std::ffi::OsString",
        }
    }
}

/// The `NonZero` integer types, with the primitive each wraps.
const NON_ZERO: &[(&str, &str)] = &[
    ("NonZeroU8", "u8"),
    ("NonZeroU16", "u16"),
    ("NonZeroU32", "u32"),
    ("NonZeroU64", "u64"),
    ("NonZeroU128", "u128"),
    ("NonZeroUsize", "usize"),
    ("NonZeroI8", "i8"),
    ("NonZeroI16", "i16"),
    ("NonZeroI32", "i32"),
    ("NonZeroI64", "i64"),
    ("NonZeroI128", "i128"),
    ("NonZeroIsize", "isize"),
];

/// A struct or enum of the crate whose fields can all be generated. The harness generates a
/// *mirror* of it made of std types (its fields as a tuple; for an enum a variant tag and the
/// payloads), and a constructor injected next to the type turns the mirror into the value, so
/// private fields are no obstacle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdtDef {
    pub name: String,
    /// Module path of the declaring module.
    pub module: Vec<String>,
    pub shape: Shape,
    /// How many lifetime parameters it has (its values then borrow from the mirror).
    pub lifetimes: usize,
    /// The type arguments of a generic type (`i32` for `Stack<i32>`), as source text, and the
    /// names of the parameters they stand for.
    pub type_args: Vec<String>,
    pub type_params: Vec<String>,
    /// Other crates (the harness) can name the type.
    pub reachable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    Struct(Fields),
    /// Variants in declaration order, with their fields.
    Enum(Vec<(String, Fields)>),
    /// Built with one of the type's own constructors (when its fields cannot all be
    /// generated): associated functions taking no `self`, or `Default`.
    Ctors(Vec<Ctor>),
    /// A receiver: a value of `base`, then a generated sequence of calls to its `&mut self`
    /// methods (each a `Ctor` of kind `Plain`), so states only its methods reach are tried.
    Steps {
        base: Box<AdtDef>,
        methods: Vec<Ctor>,
    },
}

/// One way to build a value with the type's own code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ctor {
    /// The associated function's name (`new`), or `default`.
    pub name: String,
    pub kind: CtorKind,
    /// Its arguments, as tuple fields.
    pub args: Fields,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CtorKind {
    /// Returns `Self`.
    Plain,
    /// Returns `Option<Self>`: `None` rejects the input.
    Option,
    /// Returns `Result<Self, _>`: `Err` rejects the input.
    Result,
    /// `Default::default()`.
    Default,
}

/// Most constructors tried per type.
const MAX_CTORS: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fields {
    Named(Vec<(String, Ty)>),
    Tuple(Vec<Ty>),
    Unit,
}

impl Fields {
    pub fn types(&self) -> Vec<&Ty> {
        match self {
            Fields::Named(f) => f.iter().map(|(_, t)| t).collect(),
            Fields::Tuple(t) => t.iter().collect(),
            Fields::Unit => Vec::new(),
        }
    }
}

/// Most elements of one mirror tuple (the harness implements its traits up to 8); longer lists
/// nest in tuples of 8.
const MIRROR_ARITY: usize = 8;

/// Tuples holding `tys`, nested by eights, and the index path to each element.
fn pack(tys: Vec<Ty>) -> (Ty, Vec<Vec<usize>>) {
    match tys.len() {
        0 => (Ty::Unit, Vec::new()),
        n if n <= MIRROR_ARITY => (Ty::Tuple(tys), (0..n).map(|i| vec![i]).collect()),
        n => {
            let mut chunks = Vec::new();
            let mut paths = Vec::new();
            for (c, chunk) in tys.chunks(MIRROR_ARITY).enumerate() {
                chunks.push(Ty::Tuple(chunk.to_vec()));
                paths.extend((0..chunk.len()).map(|i| vec![c, i]));
            }
            debug_assert_eq!(paths.len(), n);
            (Ty::Tuple(chunks), paths)
        }
    }
}

/// Where each part of a mirror is: the index path of every field (of a struct), or of the tag
/// and of each variant's payload fields (of an enum). For a receiver with steps, `tag` and
/// `fields` are paths inside one step.
pub struct MirrorLayout {
    pub ty: Ty,
    /// For an enum: the path of the variant tag (a `u8`).
    pub tag: Vec<usize>,
    /// Per variant (one entry for a struct): the index path of each field.
    pub fields: Vec<Vec<Vec<usize>>>,
}

impl AdtDef {
    /// The mirror type and where each field sits in it.
    pub fn mirror(&self) -> MirrorLayout {
        match &self.shape {
            Shape::Struct(f) => {
                let (ty, paths) = pack(f.types().into_iter().cloned().collect());
                MirrorLayout {
                    ty,
                    tag: Vec::new(),
                    fields: vec![paths],
                }
            }
            Shape::Steps { base, .. } => {
                let step = AdtDef {
                    name: self.name.clone(),
                    module: self.module.clone(),
                    shape: Shape::Ctors(match &self.shape {
                        Shape::Steps { methods, .. } => methods.clone(),
                        _ => unreachable!(),
                    }),
                    lifetimes: 0,
                    type_args: Vec::new(),
                    type_params: Vec::new(),
                    reachable: true,
                }
                .mirror();
                MirrorLayout {
                    ty: Ty::Tuple(vec![Ty::Adt(base.clone()), Ty::Vec(Box::new(step.ty))]),
                    tag: step.tag,
                    fields: step.fields,
                }
            }
            Shape::Enum(_) | Shape::Ctors(_) => {
                let variants = self.variant_fields();
                let mut parts = vec![Ty::Prim("u8")];
                let mut owners = Vec::new();
                for (v, f) in variants.iter().enumerate() {
                    for t in f.types() {
                        parts.push(t.clone());
                        owners.push(v);
                    }
                }
                let (ty, paths) = pack(parts);
                let mut fields = vec![Vec::new(); variants.len()];
                for (path, v) in paths.iter().skip(1).zip(owners) {
                    fields[v].push(path.clone());
                }
                MirrorLayout {
                    ty,
                    tag: paths[0].clone(),
                    fields,
                }
            }
        }
    }

    /// The fields of each variant (one for a struct, one per constructor or method).
    pub fn variant_fields(&self) -> Vec<&Fields> {
        match &self.shape {
            Shape::Struct(f) => vec![f],
            Shape::Enum(v) => v.iter().map(|(_, f)| f).collect(),
            Shape::Ctors(c) | Shape::Steps { methods: c, .. } => {
                c.iter().map(|c| &c.args).collect()
            }
        }
    }

    /// Distinguishes the step-sequence form of a receiver type from the type itself.
    pub fn key(&self) -> String {
        let steps = if matches!(self.shape, Shape::Steps { .. }) {
            "+steps"
        } else {
            ""
        };
        format!(
            "{}::{}<{}>{steps}",
            self.module.join("::"),
            self.name,
            self.type_args.join(",")
        )
    }

    /// Every crate type this one is built from, itself included, each once.
    pub fn collect_adts<'a>(&'a self, out: &mut Vec<&'a AdtDef>) {
        if out.iter().any(|d| d.key() == self.key()) {
            return;
        }
        out.push(self);
        if let Shape::Steps { base, .. } = &self.shape {
            base.collect_adts(out);
        }
        for f in self.variant_fields() {
            for t in f.types() {
                t.collect_adts(out);
            }
        }
    }
}

impl Ty {
    /// Whether a value of this type is its own mirror: no borrows, crate types or wrappers,
    /// so the harness passes a clone of the generated value as is.
    pub fn is_plain(&self) -> bool {
        !self.has_ref() && !self.has_adt() && !self.has_wrap()
    }

    /// The types directly inside this one (not inside a crate type's fields).
    fn children(&self) -> Vec<&Ty> {
        match self {
            Ty::Prim(_) | Ty::Unit | Ty::String | Ty::Str | Ty::CowStr | Ty::Adt(_) => Vec::new(),
            Ty::Slice(t)
            | Ty::Ref { inner: t, .. }
            | Ty::Vec(t)
            | Ty::Option(t)
            | Ty::Box(t)
            | Ty::Array(t, _)
            | Ty::Set { key: t, .. }
            | Ty::Wrap { inner: t, .. }
            | Ty::Closure { ret: t, .. } => vec![t],
            Ty::Result(a, b)
            | Ty::Map {
                key: a, value: b, ..
            } => vec![a, b],
            Ty::Tuple(ts) => ts.iter().collect(),
        }
    }

    /// Whether a std wrapper or a closure appears anywhere in this type.
    fn has_wrap(&self) -> bool {
        matches!(self, Ty::Wrap { .. } | Ty::Closure { .. })
            || self.children().into_iter().any(Ty::has_wrap)
    }

    /// Whether the harness would hold a value of a crate type it cannot name: one at the
    /// surface of this type (not inside another crate type, which its constructor builds
    /// inside the crate).
    pub fn has_private(&self) -> bool {
        match self {
            Ty::Adt(d) => !d.reachable,
            _ => self.children().into_iter().any(Ty::has_private),
        }
    }

    /// Whether a crate type appears anywhere in this type.
    pub fn has_adt(&self) -> bool {
        matches!(self, Ty::Adt(_)) || self.children().into_iter().any(Ty::has_adt)
    }

    /// The crate types this type is built from (through their fields too), each once.
    pub fn collect_adts<'a>(&'a self, out: &mut Vec<&'a AdtDef>) {
        match self {
            Ty::Adt(d) => d.collect_adts(out),
            _ => self
                .children()
                .into_iter()
                .for_each(|t| t.collect_adts(out)),
        }
    }

    /// Whether a value of this type borrows (so it must be rebuilt from an owned value per call).
    pub fn has_ref(&self) -> bool {
        match self {
            // A closure owns the value it returns; a crate type owns its mirror's parts.
            Ty::Adt(_) | Ty::Closure { .. } => false,
            Ty::Str | Ty::Slice(_) | Ty::Ref { .. } | Ty::CowStr => true,
            _ => self.children().into_iter().any(Ty::has_ref),
        }
    }

    /// Whether the type can be hashed and ordered once owned (map keys and set elements).
    fn is_key(&self) -> bool {
        match self {
            Ty::Prim(p) => !p.starts_with('f'),
            Ty::Unit | Ty::String | Ty::Str | Ty::CowStr => true,
            Ty::Ref { inner, .. } => inner.is_key(),
            Ty::Vec(t) | Ty::Option(t) | Ty::Box(t) | Ty::Array(t, _) | Ty::Slice(t) => t.is_key(),
            Ty::Wrap {
                kind: Wrap::Cell | Wrap::RefCell,
                ..
            } => false,
            Ty::Wrap { inner, .. } => inner.is_key(),
            Ty::Result(a, b) => a.is_key() && b.is_key(),
            Ty::Tuple(ts) => ts.iter().all(Ty::is_key),
            // Whether it derives `Hash` and `Ord` is not checked: never a key.
            Ty::Map { .. } | Ty::Set { .. } | Ty::Adt(_) | Ty::Closure { .. } => false,
        }
    }
}

/// One argument of the function under test.
#[derive(Debug, Clone)]
pub struct ArgPlan {
    pub ty: Ty,
    /// The argument involves a type the harness cannot name: the wrapper takes its mirror and
    /// builds the value inside the crate.
    pub in_crate: bool,
    /// The type exactly as written, for the injected wrapper's signature.
    pub written: Type,
}

/// How the harness calls a function: its arguments, or why it cannot.
#[derive(Debug, Clone)]
pub enum Plan {
    Call(Box<CallPlan>),
    Skip(String),
}

#[derive(Debug, Clone)]
pub struct CallPlan {
    pub args: Vec<ArgPlan>,
    /// The return type with `Self` replaced by the impl's type, for the wrapper.
    pub ret: ReturnType,
    /// How the wrapper reaches the function from the entry module (`super::f`, `super::Type::f`).
    pub callee: syn::ExprPath,
    /// The wrapper's generics: the function's, minus the type parameters instantiated here.
    pub generics: syn::Generics,
    /// The result's type cannot be named (`impl Trait`): the wrapper drops it.
    pub discard_result: bool,
    /// The result is an `impl Iterator`: the wrapper collects up to `DRAIN_CAP` items.
    pub drain_iterator: bool,
    /// The result's type cannot be named by the harness: the wrapper returns its `Debug` text.
    pub observe_in_crate: bool,
    /// A formatting trait's `fmt`: the wrapper formats the receiver with this format string
    /// (`"{}"`, `"{:?}"`) and returns the text, so a panic inside `fmt` is a finding.
    pub format_spec: Option<&'static str>,
}

/// Formatting traits, by name, and the format string that calls their `fmt`.
const FORMAT_TRAITS: &[(&str, &str)] = &[
    ("Display", "{}"),
    ("Debug", "{:?}"),
    ("LowerHex", "{:x}"),
    ("UpperHex", "{:X}"),
    ("Binary", "{:b}"),
    ("Octal", "{:o}"),
    ("LowerExp", "{:e}"),
    ("UpperExp", "{:E}"),
];

/// The format string for `f` when it is a formatting trait's `fmt`.
pub fn format_spec(f: &ChangedFn) -> Option<&'static str> {
    let FnKind::TraitImpl { trait_path, .. } = &f.kind else {
        return None;
    };
    let name = trait_path.segments.last()?.ident.to_string();
    if f.name != "fmt" {
        return None;
    }
    FORMAT_TRAITS
        .iter()
        .find(|(t, _)| *t == name)
        .map(|(_, spec)| *spec)
}

const PRIMS: &[&str] = &[
    "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128", "usize", "f32",
    "f64", "bool", "char",
];

/// Plans a call to `f`, or says why it cannot be made; `types` are the crate's own types.
pub fn plan(f: &ChangedFn, types: &CrateTypes) -> Plan {
    if let Some(reason) = &f.skip {
        return Plan::Skip(reason.clone());
    }
    match plan_call(f, types) {
        Ok(p) => Plan::Call(Box::new(p)),
        Err(reason) => Plan::Skip(reason),
    }
}

/// What a written type means where the function is: the crate's types, `Self`, and the
/// concrete types chosen for type parameters.
pub struct Env<'a> {
    types: &'a CrateTypes,
    module: &'a [String],
    self_ty: Option<&'a Type>,
    /// Type parameter name → the concrete type it is instantiated with.
    subst: BTreeMap<String, Type>,
    /// Crate types being resolved, to stop at recursive ones.
    visiting: RefCell<Vec<String>>,
}

impl<'a> Env<'a> {
    pub fn new(types: &'a CrateTypes, module: &'a [String], self_ty: Option<&'a Type>) -> Self {
        Env {
            types,
            module,
            self_ty,
            subst: BTreeMap::new(),
            visiting: RefCell::new(Vec::new()),
        }
    }
}

fn plan_call(f: &ChangedFn, types: &CrateTypes) -> Result<CallPlan, String> {
    let sig = &f.sig;
    if let FnKind::TraitImpl { trait_path, .. } = &f.kind {
        if trait_path
            .segments
            .last()
            .is_some_and(|s| s.ident == "Drop")
        {
            return Err("`Drop::drop` runs when a value goes away; it cannot be called".into());
        }
    }
    // A generic impl (`impl<T: AsRef<[u8]>> ToHex for T`) is instantiated like a generic fn.
    let mut pre = Env::new(types, &f.module, None);
    if let FnKind::Inherent { impl_generics, .. } | FnKind::TraitImpl { impl_generics, .. } =
        &f.kind
    {
        if impl_generics.const_params().next().is_some() {
            return Err("method of an impl with a const parameter: not supported yet".into());
        }
        let impl_self = match &f.kind {
            FnKind::Inherent { self_ty, .. } | FnKind::TraitImpl { self_ty, .. } => {
                Some(&**self_ty)
            }
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
            let chosen = instantiate(&bounds, types).map_err(|why| {
                format!(
                    "method of a generic impl (type parameter `{}`): {why}",
                    tp.ident
                )
            })?;
            let chosen = pre.substitute(&chosen);
            pre.subst.insert(tp.ident.to_string(), chosen);
        }
    }
    let kind = match &f.kind {
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
    };
    let f = &ChangedFn { kind, ..f.clone() };
    let self_ty = match &f.kind {
        FnKind::Free => None,
        FnKind::Inherent { self_ty, .. } | FnKind::TraitImpl { self_ty, .. } => Some(&**self_ty),
    };
    let mut env = Env::new(types, &f.module, self_ty);
    env.subst = pre.subst;
    if sig.generics.const_params().next().is_some() {
        return Err("generic function with a const parameter: not supported yet".into());
    }
    if sig.variadic.is_some() {
        return Err("variadic function".into());
    }
    // Type parameters and `impl Trait` arguments get concrete types that meet their bounds.
    // Closure parameters last, so their signatures see the other parameters' choices.
    let mut params: Vec<&syn::TypeParam> = sig.generics.type_params().collect();
    params.sort_by_key(|tp| {
        bounds_of(&tp.ident, &tp.bounds, sig.generics.where_clause.as_ref())
            .iter()
            .any(|b| fn_bound(b).is_some())
    });
    for tp in params {
        let bounds = bounds_of(&tp.ident, &tp.bounds, sig.generics.where_clause.as_ref());
        let chosen = instantiate(&bounds, types)
            .map_err(|why| format!("generic function (type parameter `{}`): {why}", tp.ident))?;
        let chosen = env.substitute(&chosen);
        env.subst.insert(tp.ident.to_string(), chosen);
    }
    let callee = callee_path(f)?;
    let mut args = Vec::new();
    let format_spec = format_spec(f);
    // A formatting `fmt` is called through `format!`, with the receiver only.
    let inputs = sig
        .inputs
        .iter()
        .take(if format_spec.is_some() { 1 } else { usize::MAX });
    for (i, input) in inputs.enumerate() {
        match input {
            FnArg::Receiver(r) => {
                if self_ty.is_none() {
                    return Err("`self` outside an impl".into());
                }
                let written = outside_impl(&r.ty, &f.kind);
                let ty = env
                    .classify(&written)
                    .map_err(|why| format!("receiver `{}`: {why}", tokens(&written)))?;
                let ty = with_steps(ty, &env, &f.name);
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
                            format!("argument `{name}` (`{}`): {why}", tokens(&*pt.ty))
                        })?;
                        env.substitute(&outside_impl(&chosen, &f.kind))
                    }
                    t => env.substitute(&outside_impl(t, &f.kind)),
                };
                let ty = env
                    .classify(&written)
                    .map_err(|why| format!("argument `{name}`: {why}"))?;
                let in_crate = ty.has_private();
                args.push(ArgPlan {
                    ty,
                    written,
                    in_crate,
                });
            }
        }
    }
    let ret = match &sig.output {
        _ if format_spec.is_some() => syn::parse_quote!(-> ::std::string::String),
        ReturnType::Type(arrow, ty) => {
            if let Type::ImplTrait(_) = &**ty {
                ReturnType::Type(*arrow, ty.clone())
            } else {
                ReturnType::Type(*arrow, Box::new(env.substitute(&outside_impl(ty, &f.kind))))
            }
        }
        out => out.clone(),
    };
    // The wrapper keeps the lifetimes; instantiated type parameters and their bounds go.
    let mut generics = sig.generics.clone();
    if !env.subst.is_empty() {
        generics.params = generics
            .params
            .into_iter()
            .filter(|p| matches!(p, syn::GenericParam::Lifetime(_)))
            .collect();
        generics.where_clause = None;
    }
    // The impl's lifetimes (`impl<'a> Word<'a>`) appear in the signature too: declare them first.
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
    if let ReturnType::Type(_, t) = &ret {
        if let Type::ImplTrait(it) = &**t {
            // A returned iterator is lazy: drain it (up to a cap) so its panics show, and
            // compare its items. Other opaque results cannot be named: they are dropped.
            let item = it.bounds.iter().find_map(iterator_item);
            let ret = match item {
                Some(item) => {
                    let item = env.substitute(&outside_impl(item, &f.kind));
                    syn::parse_quote!(-> ::std::vec::Vec<#item>)
                }
                None => ReturnType::Default,
            };
            return Ok(CallPlan {
                args,
                ret,
                callee,
                generics,
                discard_result: item.is_none(),
                drain_iterator: item.is_some(),
                observe_in_crate: false,
                format_spec,
            });
        }
    }
    // An elided lifetime in the result (`-> Cow<'_, str>`) borrowed from the one reference
    // argument is ambiguous once a type parameter became a type with a lifetime: drop the result.
    let instantiated_lifetimes = env
        .subst
        .values()
        .any(|t| t.to_token_stream().to_string().contains('\''));
    if instantiated_lifetimes && matches!(&ret, ReturnType::Type(_, t) if has_elided_lifetime(t)) {
        return Ok(CallPlan {
            args,
            ret: ReturnType::Default,
            callee,
            generics,
            discard_result: true,
            drain_iterator: false,
            observe_in_crate: false,
            format_spec,
        });
    }
    // A result of a type the harness cannot name is observed inside the crate.
    let observe_in_crate = match &ret {
        ReturnType::Type(_, t) => mentions_private(t, &f.module, types),
        ReturnType::Default => false,
    };
    let ret = if observe_in_crate {
        syn::parse_quote!(-> ::std::option::Option<::std::string::String>)
    } else {
        ret
    };
    Ok(CallPlan {
        args,
        ret,
        callee,
        generics,
        discard_result: false,
        drain_iterator: false,
        observe_in_crate,
        format_spec,
    })
}

/// Whether `ty` has an elided lifetime: `&T` without one, or `'_`.
fn has_elided_lifetime(ty: &Type) -> bool {
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
fn iterator_item(b: &syn::TypeParamBound) -> Option<&Type> {
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

/// The generator tree for a type that names no crate type.
#[cfg(test)]
pub fn classify(ty: &Type) -> Result<Ty, String> {
    Env::new(&CrateTypes::default(), &[], None).classify(ty)
}

/// The arguments and output of a `Fn`, `FnMut` or `FnOnce` bound.
fn fn_bound(b: &syn::TypeParamBound) -> Option<&syn::ParenthesizedGenericArguments> {
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
fn bounds_of<'g>(
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
fn instantiate(bounds: &[&syn::TypeParamBound], types: &CrateTypes) -> Result<Type, String> {
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
            | ("AsRef", "OsStr") => Some(syn::parse_quote!(::std::string::String)),
            ("AsRef" | "Borrow", "[u8]") | ("Into", "Vec<u8>") => {
                Some(syn::parse_quote!(::std::vec::Vec<u8>))
            }
            // Writers: `fmt::Write` (and a bare `Write`) into a `String`, `io::Write` into bytes.
            ("Write", _) if t.path.segments.iter().any(|s| s.ident == "io") => {
                Some(syn::parse_quote!(::std::vec::Vec<u8>))
            }
            ("Write", _) => Some(syn::parse_quote!(::std::string::String)),
            ("FromIterator" | "Extend", "char" | "&str" | "String") => {
                Some(syn::parse_quote!(::std::string::String))
            }
            ("FromIterator" | "Extend", _) if !args.is_empty() => {
                let x = args[0];
                Some(syn::parse_quote!(::std::vec::Vec<#x>))
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
                Some(syn::parse_quote!(::std::vec::Vec<#item>))
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

/// The path from the injected entry module to the function.
fn callee_path(f: &ChangedFn) -> Result<syn::ExprPath, String> {
    let name = &f.sig.ident;
    match &f.kind {
        FnKind::Free => Ok(syn::parse_quote!(super::#name)),
        // The self type as the impl writes it: the entry module sees the same names
        // (`use super::*`), and it may be a std type (`impl FromHex for Vec<u8>`).
        FnKind::Inherent { self_ty, .. } => Ok(syn::parse_quote!(<#self_ty>::#name)),
        FnKind::TraitImpl {
            self_ty,
            trait_path,
            ..
        } => Ok(syn::parse_quote!(<#self_ty as #trait_path>::#name)),
    }
}

/// `ty` as a wrapper outside the function's impl writes it.
fn outside_impl(ty: &Type, kind: &FnKind) -> Type {
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

impl Env<'_> {
    /// `ty` with the instantiated type parameters replaced by their concrete types.
    fn substitute(&self, ty: &Type) -> Type {
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
    fn adt(&self, item: &TypeItem, args: &[&Type]) -> Result<Ty, String> {
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

    fn adt_shape(&self, item: &TypeItem, type_args: &[Type]) -> Result<Ty, String> {
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
        let fields = |f: &syn::Fields, what: &str| -> Result<Fields, String> {
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
                    Shape::Struct(fields(&s.fields, &format!("`{}`", item.name))?)
                }
                TypeKind::Enum(e) => {
                    generic(&e.generics)?;
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
                        match fields(&v.fields, &what) {
                            Ok(f) => variants.push((v.ident.to_string(), f)),
                            Err(why) => {
                                first_err.get_or_insert(why);
                            }
                        }
                    }
                    match first_err {
                        Some(why) if variants.is_empty() => return Err(why),
                        _ => Shape::Enum(variants),
                    }
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
}

impl Env<'_> {
    /// The type's constructors whose arguments can all be generated, and `Default`; or why
    /// there are none.
    fn constructors(&self, item: &TypeItem) -> Result<Shape, String> {
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
const MAX_STEP_METHODS: usize = 8;

/// A receiver type with its `&mut self` methods (other than `called`, whose arguments can be
/// generated) as steps applied before the call; the type itself when it has none.
fn with_steps(ty: Ty, env: &Env, called: &str) -> Ty {
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
fn declared_default(
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
fn ctor_return(ret: &Type, name: &str) -> Option<CtorKind> {
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
fn replace_self(ty: &Type, self_ty: &Type) -> Type {
    replace_self_in(ty, self_ty, None)
}

/// Same as [`replace_self`], and in a trait impl, `Self::Err` becomes `<Type as Trait>::Err`.
fn replace_self_in(ty: &Type, self_ty: &Type, trait_path: Option<&syn::Path>) -> Type {
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
    fn element(&self, ty: &Type) -> Result<Ty, String> {
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
    fn classify_path(&self, path: &syn::Path) -> Result<Ty, String> {
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
            ("Cow", [t]) if self.classify(t) == Ok(Ty::Str) => Ok(Ty::CowStr),
            ("Rc" | "Arc" | "Cell" | "RefCell" | "Wrapping", [t]) => {
                let kind = match name.as_str() {
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
        .replace(" ;", ";")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(s: &str) -> Result<Ty, String> {
        classify(&syn::parse_str::<Type>(s).unwrap())
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
        assert!(why.starts_with("argument `#1`"), "{why}");
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
        assert_eq!(tokens(&p.args[0].written), ":: std :: string :: String");
        assert_eq!(tokens(&p.args[1].written), ":: std :: vec :: Vec<u8>");
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
        assert!(p.drain_iterator);
        assert_eq!(
            p.ret.to_token_stream().to_string(),
            "-> :: std :: vec :: Vec < u8 >"
        );
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
        let mut pop = changed("fn pop(&mut self, n: usize) -> Option<u8> { None }");
        pop.kind = m.kind.clone();
        let Plan::Skip(why) = plan(&pop) else {
            panic!()
        };
        assert!(why.starts_with("receiver `&mut Stack`"), "{why}");
        assert_eq!(p.callee.to_token_stream().to_string(), "< Stack > :: new");
    }
}
