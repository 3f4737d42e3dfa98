// A small program over the generated types (src/schema.d.ts): CI type-checks it with tsc, so
// a schema change that breaks a client's use of the API fails there.
import type { components, operations, paths } from "./schema";

type Dataset = components["schemas"]["DatasetPublic"];
type JobCreate = components["schemas"]["JobCreate"];
type Job = components["schemas"]["JobPublic"];
type Version = components["schemas"]["ModelVersionPublic"];
type EncodeResponse = components["schemas"]["EncodeResponse"];
type Problem = components["schemas"]["Problem"];
type EncodePath = paths["/v1/models/{name}/versions/{ref}/encode"]["post"];

export async function trainAndEncode(base: string, rows: number[][]): Promise<number[][]> {
  const post = async <T>(path: string, body: unknown): Promise<T> => {
    const response = await fetch(base + path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!response.ok) {
      const problem = (await response.json()) as Problem;
      if (problem.code === "version_not_found") throw new Error(`no such version: ${problem.detail}`);
      throw new Error(`${problem.status} ${problem.code}: ${problem.detail}`);
    }
    return (await response.json()) as T;
  };
  const spec: JobCreate = { model: "ts-demo", dataset: "digits", spec: { architecture: { kind: "dense", code_size: 2 } } };
  const job = await post<Job>("/v1/jobs", spec);
  const version = (await (await fetch(`${base}/v1/models/${job.model}/versions/latest`)).json()) as Version;
  const worse: string[] = (version.worse_than ?? []).map((w) => w.message);
  if (worse.length) console.warn(worse.join("\n"));
  const request: EncodePath["requestBody"] extends { content: { "application/json": infer B } } ? B : never = {
    inputs: rows,
  };
  const encoded = await post<EncodeResponse>(`/v1/models/${version.model}/versions/${version.version}/encode`, request);
  const datasets = await listAll<Dataset>(base, "/v1/datasets", "name");
  void datasets;
  return encoded.codings;
}

type DatasetPage = operations["list_datasets"]["responses"][200]["content"]["application/json"];
type DatasetOrder = NonNullable<NonNullable<operations["list_datasets"]["parameters"]["query"]>["order_by"]>;

// Every row of a collection, page by page: next_page_token is null on the last page.
export async function listAll<T>(base: string, path: string, orderBy: DatasetOrder): Promise<T[]> {
  const rows: T[] = [];
  let token: string | null = null;
  do {
    const query = new URLSearchParams({ limit: "100", order_by: orderBy });
    if (token) query.set("page_token", token);
    const page = (await (await fetch(`${base}${path}?${query}`)).json()) as DatasetPage;
    rows.push(...(page.data as T[]));
    token = page.next_page_token;
  } while (token);
  return rows;
}
