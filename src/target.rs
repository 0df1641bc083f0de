//! The run's targets: each function the run tests, with its plan, its counterpart before the
//! change, and why it is in the run. Later stages read them by [`TargetId`].

use crate::base::{BaseSide, NoBase};
use crate::ids::TargetId;
use crate::plan::Plan;
use crate::select::ChangedFn;

/// A function the run tests (or lists as skipped), and what the stages found out about it.
#[derive(Debug, Clone)]
pub struct Target {
    pub id: TargetId,
    /// The package it is in, by its index in the workspace.
    pub package: usize,
    pub func: ChangedFn,
    pub plan: Plan,
    /// The counterpart before the change, or why there is none to compare with.
    pub base: Result<BaseSide, NoBase>,
    pub origin: Origin,
}

/// Why a function is in the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The change touched it, or `--function` names it.
    Changed,
    /// It did not change but calls this changed helper, which cannot be called directly or is
    /// private (its callers may guarantee what random inputs break).
    CallerOf(TargetId),
}

impl Target {
    /// A target with no base yet.
    pub fn new(id: TargetId, package: usize, func: ChangedFn, plan: Plan, origin: Origin) -> Self {
        Target {
            id,
            package,
            func,
            plan,
            base: Err(NoBase::NoRevision),
            origin,
        }
    }

    /// The changed helper this target is a caller of.
    pub fn caller_of(&self) -> Option<TargetId> {
        match self.origin {
            Origin::Changed => None,
            Origin::CallerOf(helper) => Some(helper),
        }
    }

    /// Its plan can call it.
    pub fn is_callable(&self) -> bool {
        matches!(self.plan, Plan::Call(_))
    }
}

/// The targets of a run are a list in [`TargetId`] order.
impl std::ops::Index<TargetId> for [Target] {
    type Output = Target;
    fn index(&self, id: TargetId) -> &Target {
        &self[id.0]
    }
}

impl std::ops::IndexMut<TargetId> for [Target] {
    fn index_mut(&mut self, id: TargetId) -> &mut Target {
        &mut self[id.0]
    }
}
