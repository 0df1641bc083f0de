//! How each argument is generated, in words, for `cargo edgecheck list`: the std type it is
//! generated as, or how a crate type is built (from its fields, by variant, with its own
//! constructors, or by a sequence of its methods).

use std::fmt;

use super::{AdtDef, CallPlan, Ctor, CtorKind, Fields, Shape, Ty, Wrap};

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::Prim(p) => f.write_str(p),
            Ty::Unit => f.write_str("()"),
            Ty::String => f.write_str("String"),
            Ty::Str => f.write_str("str"),
            Ty::CowStr => f.write_str("Cow<str>"),
            Ty::Slice(t) => write!(f, "[{t}]"),
            Ty::Ref { mutable, inner } => {
                write!(f, "&{}{inner}", if *mutable { "mut " } else { "" })
            }
            Ty::Vec(t) => write!(f, "Vec<{t}>"),
            Ty::Option(t) => write!(f, "Option<{t}>"),
            Ty::Result(t, e) => write!(f, "Result<{t}, {e}>"),
            Ty::Box(t) => write!(f, "Box<{t}>"),
            Ty::Array(t, n) => write!(f, "[{t}; {n}]"),
            Ty::Tuple(items) => write!(f, "({})", joined(items, ", ")),
            Ty::Map {
                ordered,
                key,
                value,
            } => {
                let map = if *ordered { "BTreeMap" } else { "HashMap" };
                write!(f, "{map}<{key}, {value}>")
            }
            Ty::Set { ordered, key } => {
                write!(
                    f,
                    "{}<{key}>",
                    if *ordered { "BTreeSet" } else { "HashSet" }
                )
            }
            Ty::Wrap { kind, inner } => match kind {
                Wrap::Duration => f.write_str("Duration from (u64 seconds, u32 nanoseconds)"),
                Wrap::PathBuf => f.write_str("PathBuf from a String"),
                Wrap::OsString => f.write_str("OsString from a String"),
                Wrap::NonZero(name) => write!(f, "{name} from {inner} (zero as MIN)"),
                other => {
                    let path = other.path().rsplit("::").next().unwrap_or_default();
                    write!(f, "{path}<{inner}>")
                }
            },
            Ty::Closure { arity, ret } => {
                write!(
                    f,
                    "closure of {arity} argument(s) returning a generated {ret}"
                )
            }
            Ty::Adt(def) => def.fmt(f),
        }
    }
}

impl fmt::Display for AdtDef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.type_args.is_empty() {
            true => self.name.clone(),
            false => format!("{}<{}>", self.name, self.type_args.join(", ")),
        };
        match &self.shape {
            Shape::Struct(fields) => write!(f, "{name}{}", fields_text(fields)),
            Shape::Enum(variants) => {
                let arms: Vec<String> = variants
                    .iter()
                    .map(|(v, fields)| format!("{v}{}", fields_text(fields)))
                    .collect();
                write!(f, "{name} ({})", arms.join(" | "))
            }
            Shape::Ctors(ctors) => {
                let calls: Vec<String> = ctors.iter().map(|c| ctor_text(&self.name, c)).collect();
                write!(f, "{name} from {}", calls.join(" | "))
            }
            Shape::Steps { base, methods } => {
                let names: Vec<&str> = methods.iter().map(|m| m.name.as_str()).collect();
                write!(f, "{base}, then calls of {}", names.join(", "))
            }
        }
    }
}

/// `Amount::new(u64)`, `Amount::parse(&str)?`, `Default`.
fn ctor_text(ty: &str, c: &Ctor) -> String {
    if c.kind == CtorKind::Default {
        return "Default".into();
    }
    let args = match &c.args {
        Fields::Unit => "()".to_string(),
        fields => fields_text(fields),
    };
    let rejects = match c.kind {
        CtorKind::Option | CtorKind::Result => "?",
        _ => "",
    };
    format!("{ty}::{}{args}{rejects}", c.name)
}

fn fields_text(fields: &Fields) -> String {
    match fields {
        Fields::Unit => String::new(),
        Fields::Tuple(items) => format!("({})", joined(items, ", ")),
        Fields::Named(named) => {
            let items: Vec<String> = named.iter().map(|(n, t)| format!("{n}: {t}")).collect();
            format!(" {{ {} }}", items.join(", "))
        }
    }
}

fn joined(items: &[Ty], sep: &str) -> String {
    items
        .iter()
        .map(|t| t.to_string())
        .collect::<Vec<_>>()
        .join(sep)
}

/// One argument of a plan: its name in the signature (`self` for the receiver), its type as
/// written, and how it is generated.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ArgumentText {
    pub name: String,
    #[serde(rename = "type")]
    pub written: String,
    pub generator: String,
}

impl CallPlan {
    /// Each argument in words, named after `sig`'s parameters.
    pub fn describe(&self, sig: &syn::Signature) -> Vec<ArgumentText> {
        let names: Vec<String> = sig
            .inputs
            .iter()
            .map(|input| match input {
                syn::FnArg::Receiver(_) => "self".to_string(),
                syn::FnArg::Typed(pt) => {
                    let pat = &pt.pat;
                    quote::quote!(#pat).to_string()
                }
            })
            .collect();
        self.args
            .iter()
            .enumerate()
            .map(|(i, a)| ArgumentText {
                name: names
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| format!("argument {}", i + 1)),
                written: super::tokens(&a.written).replace(" :: ", "::"),
                generator: a.ty.to_string(),
            })
            .collect()
    }
}
