//! The harness crate: files rendered from `harness-templates/` plus one generated module per target, made with `quote` and formatted with `prettyplease`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use crate::ids::TargetId;
use crate::plan::{AdtDef, CallPlan, CtorKind, Fields, Shape, Ty, Wrap};
use crate::select::{ChangedFn, Literals};

mod entry;

use entry::{constructor_path, wrapper_path};
pub use entry::{entry_modules, Exposed, DRAIN_CAP, ENTRY_MODULE};

const CARGO_TOML: &str = include_str!("../harness-templates/Cargo.toml");
/// The harness profile's `opt-level` (in the template above), which libfuzzer-sys's build
/// script would compile libFuzzer's C++ with; the tool compiles it with the same.
pub const HARNESS_OPT_LEVEL: u32 = 2;
const MAIN_RS: &str = include_str!("../harness-templates/main.rs");
/// The harness runtime: its root module and one file per job, as `src/<path>` of the harness.
const RUNTIME: &[(&str, &str)] = &[
    (
        "runtime.rs",
        include_str!("../harness-templates/runtime.rs"),
    ),
    (
        "runtime/bytes.rs",
        include_str!("../harness-templates/runtime/bytes.rs"),
    ),
    (
        "runtime/engines.rs",
        include_str!("../harness-templates/runtime/engines.rs"),
    ),
    (
        "runtime/fuzzing.rs",
        include_str!("../harness-templates/runtime/fuzzing.rs"),
    ),
    (
        "runtime/gen.rs",
        include_str!("../harness-templates/runtime/gen.rs"),
    ),
    (
        "runtime/inflight.rs",
        include_str!("../harness-templates/runtime/inflight.rs"),
    ),
    (
        "runtime/observe.rs",
        include_str!("../harness-templates/runtime/observe.rs"),
    ),
    (
        "runtime/report.rs",
        include_str!("../harness-templates/runtime/report.rs"),
    ),
];
const PROTOCOL_RS: &str = include_str!("../harness-templates/protocol.rs");

/// A library the harness links: a package of the scratch copy, under an alias.
#[derive(Debug, Clone)]
pub struct HarnessDep {
    /// The name the generated code uses for it (`edgecheck_p0`).
    pub alias: String,
    pub package: String,
    pub path: PathBuf,
    /// Features to enable on it, and whether its default features stay on.
    pub features: Vec<String>,
    pub default_features: bool,
}

/// What the harness module of one target is made from: the function, its plan, and the
/// dependencies that expose its head and base versions.
pub struct TargetCode<'a> {
    pub id: TargetId,
    pub dep_alias: &'a str,
    /// The dependency that exposes the base version of the function, when there is one.
    pub base_alias: Option<&'a str>,
    pub func: &'a ChangedFn,
    pub plan: &'a CallPlan,
    /// The base's result is compared with the head's (see `BaseSide::compare_result`).
    pub compare_result: bool,
}

/// The harness crate's files, relative to its directory.
/// `name` is the harness package and binary name, unique per workspace so that harnesses of
/// several workspaces can share one cargo target dir.
pub fn render(
    name: &str,
    deps: &[HarnessDep],
    targets: &[TargetCode],
) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    files.insert(
        PathBuf::from("Cargo.toml"),
        manifest(name, deps).into_bytes(),
    );
    files.insert(PathBuf::from("src/main.rs"), MAIN_RS.as_bytes().to_vec());
    for (path, text) in RUNTIME {
        files.insert(Path::new("src").join(path), text.as_bytes().to_vec());
    }
    files.insert(
        PathBuf::from("src/protocol.rs"),
        PROTOCOL_RS.as_bytes().to_vec(),
    );
    files.insert(
        PathBuf::from("src/targets.rs"),
        format_file(dispatcher(targets)).into_bytes(),
    );
    for t in targets {
        files.insert(
            t.id.module_file(),
            format_file(target_module(t)).into_bytes(),
        );
    }
    files
}

fn manifest(name: &str, deps: &[HarnessDep]) -> String {
    let mut doc: toml_edit::DocumentMut = CARGO_TOML
        .replace("{{name}}", name)
        .replace("{{dependencies}}", "")
        .parse()
        .expect("the harness Cargo.toml template is valid TOML");
    for d in deps {
        let mut t = toml_edit::InlineTable::new();
        t.insert("package", d.package.as_str().into());
        t.insert("path", d.path.to_string_lossy().as_ref().into());
        if !d.default_features {
            t.insert("default-features", false.into());
        }
        if !d.features.is_empty() {
            t.insert(
                "features",
                d.features
                    .iter()
                    .map(String::as_str)
                    .collect::<toml_edit::Array>()
                    .into(),
            );
        }
        doc["dependencies"][&d.alias] = toml_edit::value(t);
        // The user's crates keep line tables (dependencies do not), to find their frames.
        doc["profile"]["release"]["package"][&d.package]["debug"] =
            toml_edit::value("line-tables-only");
    }
    doc.to_string()
}

pub(crate) fn format_file(tokens: TokenStream) -> String {
    match syn::parse2::<syn::File>(tokens.clone()) {
        Ok(file) => prettyplease::unparse(&file),
        // Unparseable output is a bug of this tool; the compiler will say where.
        Err(_) => tokens.to_string(),
    }
}

fn dispatcher(targets: &[TargetCode]) -> TokenStream {
    let mods = targets
        .iter()
        .map(|t| format_ident!("{}", t.id.harness_name()));
    let arms = targets.iter().map(|t| {
        let name = t.id.harness_name();
        let m = format_ident!("{}", name);
        quote!(#name => #m::run(opts),)
    });
    quote! {
        //! Generated by cargo-edgecheck: the targets of this harness.
        #(mod #mods;)*
        /// Runs the target named in `opts`; false when there is none by that name.
        pub fn run(opts: &crate::runtime::Opts) -> bool {
            match opts.target.as_str() {
                #(#arms)*
                _ => return false,
            }
            true
        }
    }
}

fn target_module(t: &TargetCode) -> TokenStream {
    let doc = format!(
        "Generated by cargo-edgecheck for `{}` ({}:{}).",
        t.func.display_path,
        t.func.file.display(),
        t.func.line
    );
    let owned = t.plan.args.iter().map(|a| owned_type(&a.ty));
    let lits = literals(&t.func.literals);
    let renders = t.plan.args.iter().enumerate().map(|(i, a)| {
        let idx = syn::Index::from(i);
        render_expr(&a.ty, quote!(&a.#idx), 0)
    });
    let head = call_fn(t, t.dep_alias, "head");
    let (base_fn, base_ref) = match t.base_alias {
        Some(alias) => (call_fn(t, alias, "base"), quote!(Some(base))),
        None => (quote!(), quote!(None)),
    };
    quote! {
        #![doc = #doc]
        use crate::runtime as rt;
        #[allow(unused_imports)]
        use rt::{ViaCanon as _, ViaDebug as _, ViaNothing as _};
        type Args = (#(#owned,)*);
        static LITS: rt::Lits = #lits;
        fn render(a: &Args) -> Vec<String> {
            vec![#(#renders),*]
        }
        #head
        #base_fn
        pub fn run(opts: &rt::Opts) {
            rt::run::<Args>(opts, &LITS, rt::Target { render, head, base: #base_ref })
        }
    }
}

/// `fn head(a: &Args, observe: bool) -> Option<String>`: calls one version of the function on
/// an input and, when asked, observes its result and the `&mut` arguments after the call.
fn call_fn(t: &TargetCode, dep_alias: &str, name: &str) -> TokenStream {
    let fn_name = format_ident!("{}", name);
    let dep = format_ident!("{}", dep_alias);
    let path = wrapper_path(&t.func.module, t.id)
        .into_iter()
        .map(|s| format_ident!("{}", s));
    let cx = Conv {
        at: ConvAt::Harness(dep_alias),
        target: t.id,
    };
    // The head's result is always observed (it is shown); the base's only when comparable.
    let observe_result = name == "head" || t.compare_result;
    let mut locals = Vec::new();
    let mut observed = Vec::new();
    let args: Vec<TokenStream> = t
        .plan
        .args
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let idx = syn::Index::from(i);
            if a.in_crate {
                // The wrapper builds it from the mirror: the harness cannot name its type.
                return quote!(&a.#idx);
            }
            let Ty::Ref {
                mutable: true,
                inner,
            } = &a.ty
            else {
                // Bound to a local first: a result that borrows the argument (`&self` → `&str`)
                // must not outlive a temporary.
                let x = format_ident!("x{}", i);
                let value = conv_expr(&a.ty, quote!(&a.#idx), 0, &cx);
                locals.push(quote!(let #x = #value;));
                return quote!(#x);
            };
            // A `&mut` argument borrows a local, so it can be observed after the call.
            let m = format_ident!("m{}", i);
            observed.push(quote!((&&&rt::Obs(&#m)).observe()));
            match &**inner {
                Ty::Slice(e) if e.is_plain() => {
                    locals.push(quote!(let mut #m = ::std::clone::Clone::clone(&a.#idx);));
                    quote!(&mut #m[..])
                }
                inner => {
                    let value = conv_expr(inner, quote!(&a.#idx), 0, &cx);
                    locals.push(quote!(let mut #m = #value;));
                    quote!(&mut #m)
                }
            }
        })
        .collect();
    quote! {
        fn #fn_name(a: &Args, observe: bool) -> Option<String> {
            #(#locals)*
            let result = {
                let r = ::#dep #(:: #path)* (#(#args),*);
                if observe && #observe_result { (&&&rt::Obs(&r)).observe() } else { None }
            };
            if !observe {
                return None;
            }
            rt::join_obs(vec![result, #(#observed),*])
        }
    }
}

fn literals(l: &Literals) -> TokenStream {
    let ints = l.ints.iter().map(|v| Literal::i128_unsuffixed(*v));
    let floats = l
        .floats
        .iter()
        .filter(|f| f.is_finite())
        .map(|v| Literal::f64_unsuffixed(*v));
    let strs = l.strs.iter().map(|s| Literal::string(s));
    let bytes = l.bytes.iter().map(|b| Literal::byte_string(b));
    let chars = l.chars.iter().map(|c| Literal::character(*c));
    let lens = l.lens.iter().map(|n| Literal::usize_unsuffixed(*n));
    quote!(rt::Lits {
        ints: &[#(#ints),*],
        floats: &[#(#floats),*],
        strs: &[#(#strs),*],
        bytes: &[#(#bytes),*],
        chars: &[#(#chars),*],
        lens: &[#(#lens),*],
    })
}

/// The owned type the harness generates for an argument type.
pub(crate) fn owned_type(ty: &Ty) -> TokenStream {
    match ty {
        Ty::Adt(d) => owned_type(&d.mirror().ty),
        Ty::Wrap { inner, .. } | Ty::Closure { ret: inner, .. } => owned_type(inner),
        Ty::Prim(p) => {
            let id = format_ident!("{}", p);
            quote!(#id)
        }
        Ty::Unit => quote!(()),
        Ty::String | Ty::Str | Ty::CowStr => quote!(std::string::String),
        Ty::Slice(t) | Ty::Vec(t) => {
            let t = owned_type(t);
            quote!(std::vec::Vec<#t>)
        }
        Ty::Ref { inner, .. } => owned_type(inner),
        Ty::Option(t) => {
            let t = owned_type(t);
            quote!(std::option::Option<#t>)
        }
        Ty::Result(a, b) => {
            let (a, b) = (owned_type(a), owned_type(b));
            quote!(std::result::Result<#a, #b>)
        }
        Ty::Box(t) => {
            let t = owned_type(t);
            quote!(std::boxed::Box<#t>)
        }
        Ty::Array(t, n) => {
            let t = owned_type(t);
            let n = Literal::usize_unsuffixed(*n);
            quote!([#t; #n])
        }
        Ty::Tuple(ts) => {
            let ts = ts.iter().map(owned_type);
            quote!((#(#ts,)*))
        }
        Ty::Map {
            ordered,
            key,
            value,
        } => {
            let (k, v) = (owned_type(key), owned_type(value));
            if *ordered {
                quote!(std::collections::BTreeMap<#k, #v>)
            } else {
                quote!(std::collections::HashMap<#k, #v>)
            }
        }
        Ty::Set { ordered, key } => {
            let k = owned_type(key);
            if *ordered {
                quote!(std::collections::BTreeSet<#k>)
            } else {
                quote!(std::collections::HashSet<#k>)
            }
        }
    }
}

/// Where a conversion finds the constructors of the crate's types: the harness dependency
/// (head or base) and the target they were injected for; no dependency outside the harness.
pub(crate) struct Conv<'a> {
    pub at: ConvAt<'a>,
    pub target: TargetId,
}

/// Where the code that converts runs.
pub(crate) enum ConvAt<'a> {
    /// In the harness, which reaches the crate under this dependency alias.
    Harness(&'a str),
    /// Inside the crate (the injected constructors), through `crate::`.
    InCrate,
    /// Outside any of them (`emit`): crate types cannot be built.
    Nowhere,
}

/// An expression of the argument type, built from `v: &Owned`. Values that borrow are made from
/// the owned value; temporaries (`&Vec<&str>`) appear only where `plan` allows them: at the top,
/// where they live for the call.
pub(crate) fn conv_expr(ty: &Ty, v: TokenStream, depth: usize, cx: &Conv) -> TokenStream {
    if ty.is_plain() {
        return quote!(std::clone::Clone::clone(#v));
    }
    let e = format_ident!("e{}", depth);
    let k = format_ident!("k{}", depth);
    let d = depth + 1;
    match ty {
        Ty::Str => quote!((#v).as_str()),
        Ty::CowStr => quote!(std::borrow::Cow::Borrowed((#v).as_str())),
        Ty::Ref {
            mutable: false,
            inner,
        } => match &**inner {
            Ty::Str => quote!((#v).as_str()),
            Ty::Slice(t) if t.is_plain() => quote!((#v).as_slice()),
            Ty::Slice(t) => {
                let item = conv_expr(t, quote!(#e), d, cx);
                quote!(&(#v).iter().map(|#e| #item).collect::<std::vec::Vec<_>>()[..])
            }
            t if t.is_plain() => v,
            t => {
                let inner = conv_expr(t, v, d, cx);
                quote!(&#inner)
            }
        },
        Ty::Ref {
            mutable: true,
            inner,
        } => match &**inner {
            Ty::Slice(t) if t.is_plain() => quote!(&mut std::clone::Clone::clone(#v)[..]),
            t if t.is_plain() => quote!(&mut std::clone::Clone::clone(#v)),
            t => {
                let inner = conv_expr(t, v, d, cx);
                quote!(&mut #inner)
            }
        },
        Ty::Slice(t) | Ty::Vec(t) => {
            let item = conv_expr(t, quote!(#e), d, cx);
            quote!((#v).iter().map(|#e| #item).collect::<std::vec::Vec<_>>())
        }
        Ty::Option(t) => {
            let item = conv_expr(t, quote!(#e), d, cx);
            quote!((#v).as_ref().map(|#e| #item))
        }
        Ty::Result(a, b) => {
            let ok = conv_expr(a, quote!(#e), d, cx);
            let err = conv_expr(b, quote!(#e), d, cx);
            quote!(match #v { std::result::Result::Ok(#e) => std::result::Result::Ok(#ok), std::result::Result::Err(#e) => std::result::Result::Err(#err) })
        }
        Ty::Box(t) => {
            let item = conv_expr(t, quote!(&**#v), d, cx);
            quote!(std::boxed::Box::new(#item))
        }
        Ty::Array(t, _) => {
            let item = conv_expr(t, quote!(&(#v)[#e]), d, cx);
            quote!(std::array::from_fn(|#e| #item))
        }
        Ty::Tuple(ts) => {
            let items = ts.iter().enumerate().map(|(i, t)| {
                let idx = syn::Index::from(i);
                conv_expr(t, quote!(&(#v).#idx), d, cx)
            });
            quote!((#(#items,)*))
        }
        Ty::Map { key, value, .. } => {
            let kc = conv_expr(key, quote!(#k), d, cx);
            let vc = conv_expr(value, quote!(#e), d, cx);
            quote!((#v).iter().map(|(#k, #e)| (#kc, #vc)).collect())
        }
        Ty::Set { key, .. } => {
            let kc = conv_expr(key, quote!(#k), d, cx);
            quote!((#v).iter().map(|#k| #kc).collect())
        }
        Ty::Adt(def) => construct(def, v, cx),
        Ty::Closure { arity, ret } => {
            let m = format_ident!("m{}", depth);
            let value = conv_expr(ret, quote!(&#m), d, cx);
            let params = (0..*arity).map(|_| quote!(_));
            quote!({
                let #m = std::clone::Clone::clone(#v);
                move |#(#params),*| #value
            })
        }
        Ty::Wrap { kind, inner } => {
            let item = conv_expr(inner, v.clone(), d, cx);
            wrap_expr(*kind, v, item)
        }
        Ty::Prim(_) | Ty::Unit | Ty::String => quote!(std::clone::Clone::clone(#v)),
    }
}

/// A crate type made from its mirror `v` by the constructor injected for the target: called
/// from the harness through its dependency, or from inside the crate.
fn construct(def: &AdtDef, v: TokenStream, cx: &Conv) -> TokenStream {
    match cx.at {
        ConvAt::Harness(dep) => {
            let dep = format_ident!("{}", dep);
            let path = constructor_path(def, cx.target)
                .into_iter()
                .map(|s| format_ident!("{}", s));
            quote!(::#dep #(:: #path)* (#v))
        }
        ConvAt::InCrate => {
            let path = constructor_path(def, cx.target)
                .into_iter()
                .map(|s| format_ident!("{}", s));
            quote!(crate #(:: #path)* (#v))
        }
        ConvAt::Nowhere => {
            let msg = format!("no constructor for `{}`", def.name);
            quote!(compile_error!(#msg))
        }
    }
}

/// A std wrapper of kind `kind` around `item` (the inner value, converted; `v` is the mirror).
fn wrap_expr(kind: Wrap, v: TokenStream, item: TokenStream) -> TokenStream {
    match kind {
        Wrap::NonZero(name) => {
            let nz = format_ident!("{}", name);
            quote!(std::num::#nz::new(*#v).unwrap_or(std::num::#nz::MIN))
        }
        Wrap::Duration => {
            quote!(std::time::Duration::new((#v).0, (#v).1 % 1_000_000_000))
        }
        Wrap::PathBuf | Wrap::OsString => {
            let path: syn::Path = syn::parse_str(kind.path()).expect("a std path");
            quote!(#path::from(#item))
        }
        _ => {
            let path: syn::Path = syn::parse_str(kind.path()).expect("a std path");
            match kind {
                Wrap::Wrapping => quote!(#path(#item)),
                _ => quote!(#path::new(#item)),
            }
        }
    }
}

/// The `match` that picks a variant (or constructor, or method) from a mirror's tag: arm `i`
/// for `tag % arms.len() == i`. Generation and construction must agree on this numbering.
pub(crate) fn by_tag(tag: TokenStream, arms: Vec<TokenStream>) -> TokenStream {
    let n = arms.len();
    let numbered = arms.iter().enumerate().map(|(i, a)| quote!(#i => #a,));
    quote!(match (*#tag as usize) % #n { #(#numbered)* _ => unreachable!() })
}

/// `&base.0.3`: a reference to the part of a mirror at an index path.
pub(crate) fn field_at(base: TokenStream, path: &[usize]) -> TokenStream {
    let idx = path.iter().map(|i| syn::Index::from(*i));
    quote!(&#base #(.#idx)*)
}

/// Renders a crate type's mirror `v` as the Rust expression that builds the value
/// (`Rect { w: 1, h: 2 }`, `Op::Add(3)`).
fn render_adt(def: &AdtDef, v: TokenStream, depth: usize) -> TokenStream {
    let layout = def.mirror();
    let at = |path: &[usize]| field_at(quote!((#v)), path);
    let fields = |f: &Fields, paths: &[Vec<usize>], prefix: &str| -> TokenStream {
        let parts: Vec<TokenStream> = f
            .types()
            .iter()
            .zip(paths)
            .map(|(t, p)| render_expr(t, at(p), depth + 1))
            .collect();
        match f {
            Fields::Unit => quote!(#prefix.to_string()),
            Fields::Tuple(_) => {
                quote!(format!("{}({})", #prefix, <[String]>::join(&[#(#parts),*], ", ")))
            }
            Fields::Named(named) => {
                let names = named.iter().map(|(n, _)| format!("{n}: "));
                quote!(
                    format!("{} {{ {} }}", #prefix, [#(#names.to_string() + &#parts),*].join(", "))
                )
            }
        }
    };
    match &def.shape {
        Shape::Struct(f) => fields(f, &layout.fields[0], &def.name),
        Shape::Enum(variants) => {
            let arms = variants
                .iter()
                .enumerate()
                .map(|(i, (name, f))| {
                    fields(f, &layout.fields[i], &format!("{}::{}", def.name, name))
                })
                .collect();
            by_tag(at(&layout.tag), arms)
        }
        Shape::Ctors(ctors) => {
            let arms = ctors.iter().enumerate().map(|(i, c)| {
                let parts: Vec<TokenStream> = c
                    .args
                    .types()
                    .iter()
                    .zip(&layout.fields[i])
                    .map(|(t, p)| render_expr(t, at(p), depth + 1))
                    .collect();
                let call = format!("{}::{}", def.name, c.name);
                let unwrap = match c.kind {
                    CtorKind::Option | CtorKind::Result => ".unwrap()",
                    CtorKind::Plain | CtorKind::Default => "",
                };
                quote!(format!("{}({}){}", #call, <[String]>::join(&[#(#parts),*], ", "), #unwrap))
            });
            by_tag(at(&layout.tag), arms.collect())
        }
        Shape::Steps { base, methods } => {
            let base = render_adt(base, quote!(&(#v).0), depth + 1);
            let s = format_ident!("s{}", depth);
            let arms = methods.iter().enumerate().map(|(i, c)| {
                let parts: Vec<TokenStream> = c
                    .args
                    .types()
                    .iter()
                    .zip(&layout.fields[i])
                    .map(|(t, p)| render_expr(t, field_at(quote!(#s), p), depth + 1))
                    .collect();
                let name = &c.name;
                quote!(format!("v.{}({});", #name, <[String]>::join(&[#(#parts),*], ", ")))
            });
            let step = by_tag(field_at(quote!(#s), &layout.tag), arms.collect());
            quote!({
                let steps: ::std::vec::Vec<String> = (#v).1.iter().map(|#s| #step).collect();
                if steps.is_empty() {
                    #base
                } else {
                    format!("{{ let mut v = {}; {} v }}", #base, steps.join(" "))
                }
            })
        }
    }
}

/// An expression that renders `v: &Owned` as Rust source of the argument type (`&[1, 2]`, `"é"`).
fn render_expr(ty: &Ty, v: TokenStream, depth: usize) -> TokenStream {
    if ty.is_plain() {
        return quote!(rt::Gen::src(#v));
    }
    let e = format_ident!("e{}", depth);
    let k = format_ident!("k{}", depth);
    let d = depth + 1;
    let join = |items: TokenStream| quote!(#items.collect::<::std::vec::Vec<String>>().join(", "));
    match ty {
        Ty::Adt(def) => render_adt(def, v, d),
        Ty::Closure { arity, ret } => {
            let params = vec!["_"; *arity].join(", ");
            let value = render_expr(ret, v, d);
            quote!(format!("|{}| {}", #params, #value))
        }
        Ty::Wrap { kind, inner } => {
            let item = render_expr(inner, v.clone(), d);
            match kind {
                Wrap::NonZero(name) => {
                    let nz = format_ident!("{}", name);
                    let shown = quote!(if *#v == 0 { ::std::num::#nz::MIN.get() } else { *#v });
                    quote!(format!("std::num::{}::new({}).unwrap()", #name, rt::Gen::src(&#shown)))
                }
                Wrap::Wrapping => quote!(format!("std::num::Wrapping({})", #item)),
                Wrap::Duration => quote!(format!(
                    "std::time::Duration::new({}, {})",
                    (#v).0,
                    (#v).1 % 1_000_000_000
                )),
                Wrap::PathBuf | Wrap::OsString => {
                    let path = kind.path().trim_start_matches("::").to_string();
                    quote!(format!("{}::from({})", #path, #item))
                }
                _ => {
                    let path = kind.path().trim_start_matches("::").to_string();
                    quote!(format!("{}::new({})", #path, #item))
                }
            }
        }
        Ty::Str => quote!(format!("{:?}", #v)),
        Ty::CowStr => quote!(format!("std::borrow::Cow::Borrowed({:?})", #v)),
        Ty::Ref { mutable, inner } => {
            let amp = if *mutable { "&mut " } else { "&" };
            match &**inner {
                Ty::Str => quote!(format!("{:?}", #v)),
                Ty::Slice(t) => {
                    let item = render_expr(t, quote!(#e), d);
                    let items = join(quote!((#v).iter().map(|#e| #item)));
                    quote!(format!("{}[{}]", #amp, #items))
                }
                t => {
                    let inner = render_expr(t, v, d);
                    quote!(format!("{}{}", #amp, #inner))
                }
            }
        }
        Ty::Slice(t) | Ty::Vec(t) => {
            let item = render_expr(t, quote!(#e), d);
            let items = join(quote!((#v).iter().map(|#e| #item)));
            let open = if matches!(ty, Ty::Vec(_)) {
                "vec!["
            } else {
                "["
            };
            quote!(format!("{}{}]", #open, #items))
        }
        Ty::Option(t) => {
            let item = render_expr(t, quote!(#e), d);
            quote!(match #v { ::std::option::Option::Some(#e) => format!("Some({})", #item), ::std::option::Option::None => "None".to_string() })
        }
        Ty::Result(a, b) => {
            let ok = render_expr(a, quote!(#e), d);
            let err = render_expr(b, quote!(#e), d);
            quote!(match #v { ::std::result::Result::Ok(#e) => format!("Ok({})", #ok), ::std::result::Result::Err(#e) => format!("Err({})", #err) })
        }
        Ty::Box(t) => {
            let item = render_expr(t, quote!(&**#v), d);
            quote!(format!("Box::new({})", #item))
        }
        Ty::Array(t, _) => {
            let item = render_expr(t, quote!(#e), d);
            let items = join(quote!((#v).iter().map(|#e| #item)));
            quote!(format!("[{}]", #items))
        }
        Ty::Tuple(ts) => {
            let items = ts.iter().enumerate().map(|(i, t)| {
                let idx = syn::Index::from(i);
                render_expr(t, quote!(&(#v).#idx), d)
            });
            let n = ts.len();
            quote!({
                let parts: ::std::vec::Vec<String> = vec![#(#items),*];
                if #n == 1 { format!("({},)", parts[0]) } else { format!("({})", parts.join(", ")) }
            })
        }
        Ty::Map {
            ordered,
            key,
            value,
        } => {
            let kind = if *ordered { "BTreeMap" } else { "HashMap" };
            let kr = render_expr(key, quote!(#k), d);
            let vr = render_expr(value, quote!(#e), d);
            let items = join(quote!((#v).iter().map(|(#k, #e)| format!("({}, {})", #kr, #vr))));
            quote!(format!("std::collections::{}::from([{}])", #kind, #items))
        }
        Ty::Set { ordered, key } => {
            let kind = if *ordered { "BTreeSet" } else { "HashSet" };
            let kr = render_expr(key, quote!(#k), d);
            let items = join(quote!((#v).iter().map(|#k| #kr)));
            quote!(format!("std::collections::{}::from([{}])", #kind, #items))
        }
        Ty::Prim(_) | Ty::Unit | Ty::String => quote!(rt::Gen::src(#v)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_harness_profile_has_the_opt_level_libfuzzer_is_compiled_with() {
        let doc: toml_edit::DocumentMut = manifest("h", &[]).parse().unwrap();
        let level = doc["profile"]["release"]["opt-level"].as_integer();
        assert_eq!(level, Some(i64::from(HARNESS_OPT_LEVEL)));
    }

    #[test]
    fn the_runtime_knows_the_constructor_reject_message() {
        assert!(RUNTIME
            .iter()
            .any(|(_, text)| text.contains(&format!("{:?}", entry::REJECT_MESSAGE))));
    }

    const NO_CX: Conv = Conv {
        at: ConvAt::Nowhere,
        target: TargetId(0),
    };
    use crate::plan::classify_type as classify;

    fn ty(s: &str) -> Ty {
        classify(&syn::parse_str(s).unwrap()).unwrap()
    }

    #[test]
    fn borrowed_arguments_are_built_from_owned_values() {
        assert_eq!(
            owned_type(&ty("&[&str]")).to_string(),
            quote!(std::vec::Vec<std::string::String>).to_string()
        );
        assert_eq!(
            conv_expr(&ty("&str"), quote!(&a.0), 0, &NO_CX).to_string(),
            quote!((&a.0).as_str()).to_string()
        );
        assert_eq!(
            conv_expr(&ty("u32"), quote!(&a.0), 0, &NO_CX).to_string(),
            quote!(std::clone::Clone::clone(&a.0)).to_string()
        );
        let s = conv_expr(&ty("Vec<&str>"), quote!(&a.0), 0, &NO_CX).to_string();
        assert!(s.contains("as_str"), "{s}");
    }

    #[test]
    fn every_runtime_module_is_copied_into_the_harness() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("harness-templates/runtime");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| format!("runtime/{}", e.unwrap().file_name().to_string_lossy()))
            .collect();
        on_disk.push("runtime.rs".into());
        on_disk.sort();
        let mut copied: Vec<String> = RUNTIME.iter().map(|(p, _)| p.to_string()).collect();
        copied.sort();
        assert_eq!(copied, on_disk);
    }
}
