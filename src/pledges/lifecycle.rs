//! The pledge lifecycle (承诺 → 践诺 → 评诺) as a pure state machine.

use crate::labelled_enum;

labelled_enum! {
    /// Where a pledge is in its lifecycle. `overdue` is not a state: it is derived.
    PledgeState("pledge_state", "承诺状态") {
        Draft => ("draft", "草稿"),
        Submitted => ("submitted", "待审核"),
        Approved => ("approved", "已公示"),
        Returned => ("returned", "已退回"),
        InProgress => ("in_progress", "践诺中"),
        Fulfilled => ("fulfilled", "已兑现"),
        Evaluated => ("evaluated", "已评议"),
        Withdrawn => ("withdrawn", "已撤回"),
    }
}

labelled_enum! {
    /// A state change, each its own endpoint: `POST /api/v1/pledges/{id}/{transition}`.
    Transition("pledge_transition", "承诺操作") {
        Submit => ("submit", "提交"),
        Approve => ("approve", "审核通过"),
        Return => ("return", "退回"),
        Start => ("start", "开始践诺"),
        Fulfil => ("fulfil", "兑现"),
        Evaluate => ("evaluate", "评议"),
        Withdraw => ("withdraw", "撤回"),
    }
}

impl PledgeState {
    /// The state `transition` leads to from here, if it is allowed.
    pub fn after(self, transition: Transition) -> Option<PledgeState> {
        use PledgeState::*;
        use Transition::*;
        match (self, transition) {
            (Draft | Returned, Submit) => Some(Submitted),
            (Submitted, Approve) => Some(Approved),
            (Submitted, Return) => Some(Returned),
            (Approved, Start) => Some(InProgress),
            (InProgress, Fulfil) => Some(Fulfilled),
            (Fulfilled, Evaluate) => Some(Evaluated),
            (Draft | Submitted | Returned, Withdraw) => Some(Withdrawn),
            _ => None,
        }
    }

    /// Every transition allowed from here.
    pub fn allowed(self) -> Vec<Transition> {
        Transition::ALL
            .iter()
            .copied()
            .filter(|t| self.after(*t).is_some())
            .collect()
    }

    /// Approved and later: on the public board (公示).
    pub fn is_public(self) -> bool {
        matches!(
            self,
            PledgeState::Approved | PledgeState::InProgress | PledgeState::Fulfilled | PledgeState::Evaluated
        )
    }

    /// States in which the author may still edit the pledge.
    pub fn is_editable(self) -> bool {
        matches!(self, PledgeState::Draft | PledgeState::Returned)
    }

    /// States that can become overdue (promised, not yet kept).
    pub fn can_be_overdue(self) -> bool {
        matches!(self, PledgeState::Approved | PledgeState::InProgress)
    }
}

#[cfg(test)]
mod tests {
    use super::PledgeState::*;
    use super::Transition::*;

    #[test]
    fn the_lifecycle() {
        assert_eq!(Draft.after(Submit), Some(Submitted));
        assert_eq!(Returned.after(Submit), Some(Submitted));
        assert_eq!(Submitted.after(Approve), Some(Approved));
        assert_eq!(Submitted.after(Return), Some(Returned));
        assert_eq!(Approved.after(Start), Some(InProgress));
        assert_eq!(InProgress.after(Fulfil), Some(Fulfilled));
        assert_eq!(Fulfilled.after(Evaluate), Some(Evaluated));
        assert_eq!(Approved.after(Withdraw), None);
        assert_eq!(Evaluated.allowed(), vec![]);
        assert_eq!(Submitted.allowed(), vec![Approve, Return, Withdraw]);
    }
}
