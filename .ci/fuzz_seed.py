#!/usr/bin/env python3
"""Seeds a small world through the API for the contract fuzzing in `.ci/fuzz`, and signs in.

    fuzz_seed.py seed  BASE_URL DIR    # build the world; write DIR/world.json (its ids) and
                                       # DIR/dictionaries.toml (those ids for schemathesis)
    fuzz_seed.py token BASE_URL ROLE   # print a fresh access token for ROLE

The password of every account is taken from $FUZZ_PASSWORD (the harness generates it per
run), so no secret is ever written into the repository. The administrator `admin` must
exist already (`dangjian create-admin`). Standard library only.

The world: the root committee; branches A and B, each with one party group and one village
with a villager group; a few members, one holding a pioneer post; one account per role (admin,
inspector, sec_a, leader_a, member_a, the last linked to its member record); pledges in
draft, submitted, in_progress and approved states, and one public supervision message; three
poor households, a cadre helper, three pairings and a help record.

Without real ids nearly every request for `/orgs/{id}`, `/members/{id}`... is a 404 and the
fuzzer never reaches a handler's logic, so the ids are handed to schemathesis as dictionaries
that it draws from half of the time (the other half it generates its own).
"""

import json
import os
import sys
import urllib.error
import urllib.request

ROLES = ("admin", "inspector", "sec_a", "leader_a", "member_a")


class ApiError(Exception):
    pass


def call(base, method, path, body=None, token=None, headers=None):
    """One request; returns (status, headers, parsed body). Raises on anything but 2xx."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    for name, value in (headers or {}).items():
        req.add_header(name, value)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw = resp.read()
            return resp.status, resp.headers, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as err:
        raise ApiError(f"{method} {path} -> {err.code}: {err.read().decode(errors='replace')}") from None


def login(base, username, password):
    _, _, body = call(base, "POST", "/api/v1/auth/login", {"username": username, "password": password})
    return body["access_token"]


def id_number(birth, serial):
    """An 18-character ID number (region 110101, Beijing Dongcheng) with a valid GB 11643 check character."""
    body = "110101" + birth.replace("-", "") + f"{serial:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, weights)) % 11]
    return body + check


def seed(base, out_dir):
    password = os.environ["FUZZ_PASSWORD"]
    admin = login(base, "admin", password)
    _, _, me = call(base, "GET", "/api/v1/me", token=admin)
    root = me["grants"][0]["org_id"]

    def create(path, body, token=admin):
        return call(base, "POST", path, body, token=token)[2]

    # Two branches, each with a party group.
    branch_a = create("/api/v1/orgs", {"parent_id": root, "kind": "branch", "name": "大洼社区党支部"})["id"]
    branch_b = create("/api/v1/orgs", {"parent_id": root, "kind": "branch", "name": "司山村党支部"})["id"]
    group_a = create("/api/v1/orgs", {"parent_id": branch_a, "kind": "group", "name": "大洼第一党小组"})["id"]
    group_b = create("/api/v1/orgs", {"parent_id": branch_b, "kind": "group", "name": "司山第一党小组"})["id"]

    # A few members; the first becomes member_a's own record.
    def member(name, gender, birth, serial, org, group=None, rural=True):
        body = {
            "name": name, "gender": gender, "birth_date": birth, "id_number": id_number(birth, serial),
            "phone": f"138{serial:08d}", "joined_on": "2012-07-01", "status": "full", "org_id": org,
            "group_id": group, "rural": rural,
        }
        return create("/api/v1/members", body)["id"]

    village = create("/api/v1/villages", {"kind": "community", "name": "大洼社区", "org_id": branch_a})["id"]
    villager_group = create("/api/v1/villager-groups", {"name": "大洼第一村民组", "village_id": village})["id"]
    village_b = create("/api/v1/villages", {"kind": "village", "name": "司山村", "org_id": branch_b})["id"]
    villager_group_b = create("/api/v1/villager-groups", {"name": "司山第一村民组", "village_id": village_b})["id"]

    m_a = member("程军", "male", "1990-03-07", 101, branch_a, group_a)
    m_a2 = member("李芳", "female", "1985-11-20", 212, branch_a, group_a, rural=False)
    m_b = member("王强", "male", "1978-05-15", 323, branch_b, group_b)
    post = create(f"/api/v1/members/{m_a}/posts",
                  {"kind": "pioneer_post", "org_id": branch_a, "start_on": "2017-01-01", "duty": "村道保洁"})["id"]

    # One account per role (admin exists already).
    grants = [me["grants"][0]["id"]]

    def account(username, org, role, grant_org):
        user = create("/api/v1/users", {"username": username, "password": password, "org_id": org})
        grants.append(create(f"/api/v1/users/{user['id']}/grants", {"role": role, "org_id": grant_org})["id"])
        return user["id"]

    users = {
        "admin": me["id"],
        "inspector": account("inspector", root, "inspector", root),
        "sec_a": account("sec_a", branch_a, "branch_secretary", branch_a),
        "leader_a": account("leader_a", branch_a, "group_leader", group_a),
        "member_a": account("member_a", branch_a, "member", branch_a),
    }
    # Link member_a to its member record (an update: If-Match with the account's ETag).
    _, headers, _ = call(base, "GET", f"/api/v1/users/{users['member_a']}", token=admin)
    call(base, "PATCH", f"/api/v1/users/{users['member_a']}", {"member_id": m_a}, token=admin,
         headers={"If-Match": headers["ETag"]})

    # Pledges in different states. Nobody approves their own pledge, so the branch secretary
    # approves what member_a and the administrator wrote.
    sec_a = login(base, "sec_a", password)
    member_a = login(base, "member_a", password)
    category = call(base, "GET", "/api/v1/public/pledge-categories")[2]["items"][0]["code"]

    def pledge(token, title, **extra):
        body = {"year": 2017, "title": title, "content": title + "，年内完成", "category": category,
                "due_on": "2017-12-31", **extra}
        return create("/api/v1/pledges", body, token=token)["id"]

    def step(token, pledge_id, transition, body=None):
        call(base, "POST", f"/api/v1/pledges/{pledge_id}/{transition}", body or {}, token=token)

    p_draft = pledge(member_a, "帮助邻居修缮房屋")
    p_submitted = pledge(member_a, "义务清扫村道")
    step(member_a, p_submitted, "submit")
    p_in_progress = pledge(member_a, "结对帮扶两户困难群众")
    step(member_a, p_in_progress, "submit")
    step(sec_a, p_in_progress, "approve")
    step(member_a, p_in_progress, "start")
    p_collective = pledge(admin, "修复村民组道路", kind="collective", org_id=branch_a)
    step(admin, p_collective, "submit")
    step(sec_a, p_collective, "approve")
    p_b = pledge(admin, "王强的承诺", member_id=m_b)

    # One public supervision message on an approved pledge (no token).
    feedback = create(f"/api/v1/public/pledges/{p_collective}/feedback", {"message": "路灯已经修好了，谢谢！"}, token=None)["id"]

    # Poor households in both villages; a cadre; 程军 (member_a) helps the first household as
    # its primary helper and logs one visit; 李芳 helps it too.
    def household(head, birth, serial, village_id, status="in_poverty", **extra):
        body = {"head_name": head, "id_number": id_number(birth, serial), "village_id": village_id, "size": 3,
                "attribute": "ordinary", "main_cause": "illness", "identified_year": 2014, "status": status, **extra}
        return create("/api/v1/households", body)["id"]

    h_a = household("李大山", "1965-05-12", 401, village, phone="13900000401")
    h_a2 = household("赵二", "1970-02-02", 402, village, status="lifted", lifted_year=2017)
    h_b = household("孙三", "1960-08-08", 403, village_b)
    cadre = create("/api/v1/cadres", {"org_id": branch_a, "name": "周明", "work_unit": "县农业农村局",
                                      "phone": "13900000501"})["id"]
    pairing_a = create("/api/v1/pairings", {"household_id": h_a, "member_id": m_a, "start_on": "2017-03-01"})["id"]
    pairing_a2 = create("/api/v1/pairings", {"household_id": h_a, "member_id": m_a2, "start_on": "2017-03-01"})["id"]
    pairing_c = create("/api/v1/pairings", {"household_id": h_a2, "cadre_id": cadre, "start_on": "2017-03-01"})["id"]
    create(f"/api/v1/pairings/{pairing_a}/help-records",
           {"date": "2017-04-12", "kind": "visit", "content": "走访了解生产生活情况"}, token=member_a)

    # Star ratings of 2017: a member's, proposed; 支部B's, approved by the administrator.
    r_member = create("/api/v1/ratings", {"year": 2017, "member_id": m_b, "level": "four_stars", "score": 90})["id"]
    r_org = create("/api/v1/ratings", {"year": 2017, "org_id": branch_b, "level": "five_stars"})["id"]
    call(base, "POST", f"/api/v1/ratings/{r_org}/approve", {}, token=admin)
    call(base, "POST", "/api/v1/ratings/notices", {"year": 2017, "org_id": root}, token=admin)  # 支部B's on notice

    # The village's finances of 2017: a solar station shared with the first household, its
    # income, a subsidy, an expenditure, and a record entered twice and reversed.
    station = create("/api/v1/income-projects", {"village_id": village, "name": "大洼光伏电站", "kind": "photovoltaic",
                                                 "capacity": 60, "capacity_unit": "kW", "status": "operating",
                                                 "household_ids": [h_a]})["id"]
    ledger = lambda category, fen, **extra: create("/api/v1/finance-records", {
        "village_id": village, "year": 2017, "category": category, "amount_fen": fen,
        "received_on": "2017-12-20", **extra})["id"]
    income = ledger("operating", 3650000, project_id=station)
    ledger("subsidy", 2000000)
    spent = ledger("management_expense", 500000)
    twice = ledger("contracting", 120000)
    call(base, "POST", f"/api/v1/finance-records/{twice}/reverse", {"reason": "重复入账"}, token=admin)

    world = {
        "income_projects": {"station": station},
        "finance_records": {"income": income, "expense": spent, "reversed": twice},
        "ratings": {"member_b": r_member, "branch_b": r_org},
        "households": {"a": h_a, "a2": h_a2, "b": h_b},
        "cadres": {"a": cadre},
        "pairings": {"a": pairing_a, "a2": pairing_a2, "cadre": pairing_c},
        "orgs": {"root": root, "branch_a": branch_a, "branch_b": branch_b, "group_a": group_a, "group_b": group_b},
        "villages": {"dawa": village, "sishan": village_b},
        "villager_groups": {"dawa_1": villager_group, "sishan_1": villager_group_b},
        "members": {"member_a": m_a, "a2": m_a2, "b": m_b}, "posts": {"member_a_pioneer": post},
        "users": users, "grants": {str(i): g for i, g in enumerate(grants)},
        "categories": {"first": category},
        "pledges": {"draft": p_draft, "submitted": p_submitted, "in_progress": p_in_progress,
                    "approved_collective": p_collective, "draft_b": p_b},
        "feedback": {"first": feedback},
    }
    spec = call(base, "GET", "/api-docs/openapi.json")[2]
    with open(os.path.join(out_dir, "world.json"), "w", encoding="utf-8") as out:
        json.dump(world, out, ensure_ascii=False, indent=1)
    with open(os.path.join(out_dir, "dictionaries.toml"), "w", encoding="utf-8") as out:
        out.write(dictionaries_toml(world, spec))


# Which seeded ids go where: a path's `{id}` by the collection the path addresses; other
# parameters and body fields by name, in every operation that has them.
PATH_IDS = {
    "/api/v1/orgs/{id}": "orgs", "/api/v1/public/orgs/{id}": "orgs",
    "/api/v1/members/{id}": "members",
    "/api/v1/pledges/{id}": "pledges", "/api/v1/public/pledges/{id}": "pledges",
    "/api/v1/users/{id}": "users",
    "/api/v1/villages/{id}": "villages",
    "/api/v1/villager-groups/{id}": "villager_groups",
    "/api/v1/households/{id}": "households",
    "/api/v1/cadres/{id}": "cadres",
    "/api/v1/pairings/{id}": "pairings",
    "/api/v1/ratings/{id}": "ratings",
    "/api/v1/income-projects/{id}": "income_projects",
    "/api/v1/finance-records/{id}": "finance_records",
    "/api/v1/public/villages/{id}": "villages",
}
NAMED = {
    "path.post_id": "posts", "path.feedback_id": "feedback", "path.grant_id": "grants", "path.code": "categories",
    "query.org_id": "orgs", "query.group_id": "orgs", "query.member_id": "members", "query.village_id": "villages",
    "query.actor_id": "users", "query.category": "categories",
    "body.org_id": "orgs", "body.parent_id": "orgs", "body.group_id": "orgs", "body.member_id": "members",
    "body.village_id": "villages", "body.villager_group_id": "villager_groups", "body.post_id": "posts",
    "body.category": "categories",
    "query.household_id": "households", "query.pairing_id": "pairings", "query.cadre_id": "cadres",
    "body.household_id": "households", "body.cadre_id": "cadres",
    "query.project_id": "income_projects", "body.project_id": "income_projects",
}
# Half of the time a seeded id, half of the time whatever the fuzzer makes up.
PROBABILITY = 0.5


def binding(dictionary):
    return f'{{ dictionary = "{dictionary}", probability = {PROBABILITY} }}'


def dictionaries_toml(world, spec):
    """The schemathesis configuration that hands the seeded ids to the fuzzer."""
    lines = ["# Generated by fuzz_seed.py from this run's seeded world.", ""]
    for name in sorted(set(PATH_IDS.values()) | set(NAMED.values())):
        lines += [f"[dictionaries.{name}]", "values = " + json.dumps(sorted(world[name].values()))]
    lines += ["", "[parameters]"]
    lines += [f'"{key}" = {binding(name)}' for key, name in NAMED.items()]
    # One block per operation: were several blocks to match one operation, schemathesis would
    # take `parameters` from the first alone.
    for path, item in sorted(spec["paths"].items()):
        prefix = next((p for p in PATH_IDS if path == p or path.startswith(p + "/")), None)
        if prefix is None:
            continue
        for method in sorted(m for m in item if m in ("get", "put", "post", "patch", "delete")):
            lines += ["", "[[operations]]", f'include-path = "{path}"', f'include-method = "{method.upper()}"',
                      f'parameters = {{ "path.id" = {binding(PATH_IDS[prefix])} }}']
    return "\n".join(lines) + "\n"


def main(argv):
    if len(argv) == 4 and argv[1] == "seed":
        seed(argv[2], argv[3])
    elif len(argv) == 4 and argv[1] == "token" and argv[3] in ROLES:
        print(login(argv[2], argv[3], os.environ["FUZZ_PASSWORD"]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    try:
        main(sys.argv)
    except ApiError as err:
        sys.exit(f"fuzz_seed: {err}")
