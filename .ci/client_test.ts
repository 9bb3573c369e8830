// The generated-client test, run by .ci/client (see docs/generated-client.md).
//
// It talks to a running service through nothing but the client generated from the committed
// openapi/openapi.json: `paths`, `components` and the enums come from ./schema.ts
// (openapi-typescript), the requests go through openapi-fetch typed by them. No raw HTTP.
//
//   node client_test.js BASE_URL        with CLIENT_PASSWORD (the admin's) in the environment
//
// Signs in as admin, finds the root committee from /me, creates a branch under it, creates a
// member in that branch with the generated enum types, reads the member back (masked, then
// with reveal=pii) and lists the branch's members. Exits non-zero on the first mismatch.
import createClient from "openapi-fetch";
import {
  Education,
  Gender,
  MemberStatus,
  OrgKind,
  Reveal,
  Role,
  type components,
  type paths,
} from "./schema.js";

type MemberView = components["schemas"]["MemberView"];
// The JSON media types only: GET /members and GET /pledges also answer text/csv (with
// `Accept: text/csv`), which this test never asks for.
type Json = `${string}/json`;
type NewMember = components["schemas"]["NewMember"];

class Mismatch extends Error {}

function fail(message: string): never {
  throw new Mismatch(message);
}

function expectEqual<T>(what: string, actual: T, expected: T): void {
  if (actual !== expected) {
    fail(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

/** What openapi-fetch returns: data on 2xx, error (the problem+json body) otherwise. */
function ok<D>(what: string, result: { data?: D; error?: unknown; response: Response }): D {
  if (result.data === undefined) {
    fail(`${what}: HTTP ${result.response.status} ${JSON.stringify(result.error ?? null)}`);
  }
  return result.data;
}

/** A valid 18-character resident ID number (GB 11643) for the given birth date. */
function idNumber(region: string, birth: string, sequence: string): string {
  const body = region + birth.replaceAll("-", "") + sequence;
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(body[i]) * (weights[i] ?? 0);
  return body + "10X98765432"[sum % 11];
}

async function main(): Promise<void> {
  const baseUrl = process.argv[2];
  const password = process.env["CLIENT_PASSWORD"];
  if (!baseUrl || !password) {
    console.error("usage: CLIENT_PASSWORD=... node client_test.js BASE_URL");
    process.exit(2);
  }

  // --- sign in ---------------------------------------------------------------------------
  const anonymous = createClient<paths, Json>({ baseUrl });
  const tokens = ok(
    "POST /api/v1/auth/login",
    await anonymous.POST("/api/v1/auth/login", { body: { username: "admin", password } }),
  );
  expectEqual("token_type", tokens.token_type, "Bearer");
  if (tokens.access_token.length === 0) fail("login: empty access_token");
  console.log(`signed in as admin (token valid ${tokens.expires_in} s)`);
  const api = createClient<paths, Json>({
    baseUrl,
    headers: { Authorization: `Bearer ${tokens.access_token}` },
  });

  // --- the root committee, from the caller's grants ----------------------------------------
  const me = ok("GET /api/v1/me", await api.GET("/api/v1/me"));
  expectEqual("me.username", me.username, "admin");
  const adminGrant = me.grants.find((grant) => grant.role === Role.town_admin);
  if (!adminGrant) fail(`GET /api/v1/me: no town_admin grant in ${JSON.stringify(me.grants)}`);
  const root = ok(
    "GET /api/v1/orgs/{id}",
    await api.GET("/api/v1/orgs/{id}", { params: { path: { id: adminGrant.org_id } } }),
  );
  expectEqual("root kind", root.kind, OrgKind.committee);
  expectEqual("root parent_id", root.parent_id ?? null, null);
  console.log(`root committee: ${root.name} (${root.id})`);

  // --- a branch for the member (members sit in a branch) -----------------------------------
  const suffix = Math.random().toString(36).slice(2, 8);
  const branch = ok(
    "POST /api/v1/orgs",
    await api.POST("/api/v1/orgs", {
      params: { header: { "Idempotency-Key": `client-test-branch-${suffix}` } },
      body: { parent_id: root.id, kind: OrgKind.branch, name: `客户端测试支部-${suffix}` },
    }),
  );
  expectEqual("branch kind", branch.kind, OrgKind.branch);
  expectEqual("branch parent_id", branch.parent_id, root.id);
  console.log(`created branch: ${branch.name} (${branch.id})`);

  // --- create a member, with the generated enums --------------------------------------------
  const birthDate = "1992-11-23";
  // An even sequence digit, as for a woman's ID number; random so that reruns never collide.
  const sequence = String(Math.floor(Math.random() * 50) * 2).padStart(3, "0");
  const newMember: NewMember = {
    name: "林晓梅",
    gender: Gender.female,
    birth_date: birthDate,
    id_number: idNumber("340822", birthDate, sequence),
    phone: "13912345678",
    joined_on: "2016-07-01",
    status: MemberStatus.probationary,
    education: Education.bachelor,
    ethnicity: "汉族",
    specialty: "会计",
    address: "大洼社区司山村民组",
    note: "generated-client test",
    org_id: branch.id,
    rural: true,
  };
  const created = ok(
    "POST /api/v1/members",
    await api.POST("/api/v1/members", {
      params: { header: { "Idempotency-Key": `client-test-member-${suffix}` } },
      body: newMember,
    }),
  );
  console.log(`created member: ${created.name} (${created.id})`);

  // The fields every view shows as they were sent, and the masked ones.
  const checkMember = (where: string, m: MemberView, revealed: boolean): void => {
    expectEqual(`${where} name`, m.name, newMember.name);
    expectEqual(`${where} gender`, m.gender, Gender.female);
    expectEqual(`${where} status`, m.status, MemberStatus.probationary);
    expectEqual(`${where} education`, m.education, Education.bachelor);
    expectEqual(`${where} ethnicity`, m.ethnicity, newMember.ethnicity);
    expectEqual(`${where} specialty`, m.specialty, newMember.specialty);
    expectEqual(`${where} address`, m.address, newMember.address);
    expectEqual(`${where} note`, m.note, newMember.note);
    expectEqual(`${where} joined_on`, m.joined_on, newMember.joined_on);
    expectEqual(`${where} org_id`, m.org_id, branch.id);
    expectEqual(`${where} rural`, m.rural, true);
    expectEqual(`${where} active`, m.active, true);
    expectEqual(`${where} birth_year`, m.birth_year, 1992);
    expectEqual(`${where} pii_revealed`, m.pii_revealed, revealed);
    if (revealed) {
      expectEqual(`${where} id_number`, m.id_number, newMember.id_number);
      expectEqual(`${where} phone`, m.phone, newMember.phone);
      expectEqual(`${where} birth_date`, m.birth_date, birthDate);
    } else {
      expectEqual(`${where} id_number (masked)`, m.id_number, "340822************");
      expectEqual(`${where} phone (masked)`, m.phone, "139****5678");
      expectEqual(`${where} birth_date (masked)`, m.birth_date ?? null, null);
    }
  };
  checkMember("created", created, false);

  // --- read it back by id: masked, then revealed ------------------------------------------
  const read = ok(
    "GET /api/v1/members/{id}",
    await api.GET("/api/v1/members/{id}", { params: { path: { id: created.id } } }),
  );
  expectEqual("read id", read.id, created.id);
  expectEqual("read version", read.version, created.version);
  expectEqual("read created_at", read.created_at, created.created_at);
  checkMember("read", read, false);
  const revealed = ok(
    "GET /api/v1/members/{id}?reveal=pii",
    await api.GET("/api/v1/members/{id}", {
      params: { path: { id: created.id }, query: { reveal: Reveal.pii } },
    }),
  );
  checkMember("read with reveal=pii", revealed, true);
  console.log("read back: every field as created (masked and with reveal=pii)");

  // --- list the branch's members and find it ----------------------------------------------
  const page = ok(
    "GET /api/v1/members",
    await api.GET("/api/v1/members", {
      params: {
        query: { org_id: branch.id, status: MemberStatus.probationary, include_total: true, limit: 100 },
      },
    }),
  );
  expectEqual("list total", page.total, 1);
  expectEqual("list next_cursor", page.next_cursor ?? null, null);
  const listed = page.items.find((item) => item.id === created.id);
  if (!listed) fail(`GET /api/v1/members: member ${created.id} not in ${JSON.stringify(page.items)}`);
  checkMember("listed", listed, false);
  // A filter the member does not match leaves it out.
  const others = ok(
    "GET /api/v1/members?status=full",
    await api.GET("/api/v1/members", {
      params: { query: { org_id: branch.id, status: MemberStatus.full } },
    }),
  );
  if (others.items.some((item) => item.id === created.id)) {
    fail("GET /api/v1/members?status=full lists the probationary member");
  }
  console.log(`listed: found in the branch's ${page.items.length} member(s)`);
}

main().then(
  () => {
    console.log(`generated-client test passed (${process.env["CLIENT_GENERATOR"] ?? "generator not named"})`);
  },
  (err: unknown) => {
    console.error(`generated-client test FAILED: ${err instanceof Mismatch ? err.message : String(err)}`);
    if (!(err instanceof Mismatch) && err instanceof Error && err.stack) console.error(err.stack);
    process.exit(1);
  },
);
