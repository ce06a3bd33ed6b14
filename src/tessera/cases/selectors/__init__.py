"""Every read of case data goes through here, with the access rules applied in the query.

Sensitivity: standard cases are open to everyone with Perm.VIEW_CASES; restricted cases to their
team, their owner, named users and holders of Perm.VIEW_RESTRICTED (supervisors); highly
restricted cases to their owner and named users only. Break-glass adds one case for one hour.
Anything not visible is answered as missing (404), never as forbidden, so ids reveal nothing.

`access` holds the rule and the reads of one record; `listing` the case list (filters, search,
pages and counts); `people` the reads of people (search over blind indexes, duplicates);
`extensions` the organisation's own fields.
"""

from tessera.cases.selectors.access import (
    active_break_glass,
    case_row,
    case_rows,
    find_case_by_reference,
    get_case,
    get_event,
    get_goal,
    get_note,
    get_party,
    get_plan,
    hidden_case_for_break_glass,
    in_visible_cases,
    visible_cases,
)
from tessera.cases.selectors.extensions import extension_fields, get_extension_field
from tessera.cases.selectors.listing import (
    LIST_FILTERS,
    CaseListing,
    add_counts,
    filter_cases,
)
from tessera.cases.selectors.people import (
    find_duplicates,
    get_person,
    identity_match,
    person_cases,
    query_kinds,
    search_people,
    visible_people,
)

__all__ = [
    "LIST_FILTERS",
    "CaseListing",
    "active_break_glass",
    "add_counts",
    "case_row",
    "case_rows",
    "extension_fields",
    "filter_cases",
    "find_case_by_reference",
    "find_duplicates",
    "get_case",
    "get_event",
    "get_extension_field",
    "get_goal",
    "get_note",
    "get_party",
    "get_person",
    "get_plan",
    "hidden_case_for_break_glass",
    "identity_match",
    "in_visible_cases",
    "person_cases",
    "query_kinds",
    "search_people",
    "visible_cases",
    "visible_people",
]
