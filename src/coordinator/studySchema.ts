import { schemaMismatch, type DataSchema } from '../protocol/dataSchema.js';

/** Where the study's schema came from: pinned in the experiment, or the first site that announced one. */
export type SchemaSource = { readonly kind: 'pinned' } | { readonly kind: 'first-site'; readonly site: string } | { readonly kind: 'stored' };

/**
 * The study's data schema, against which every site's announced schema is checked at connect time, before it
 * can train. Pinned (CoordinatorOptions.dataSchema), every site must announce one that matches. Unpinned, the
 * first authenticated site that announces a schema sets it for the run, and later ones must match it; a site
 * that announces none (a custom Trainer without `dataSchema`) is then not checked.
 */
export class StudySchema {
  private current: { schema: DataSchema; source: SchemaSource } | undefined;

  constructor(pinned: DataSchema | undefined) {
    if (pinned) this.current = { schema: pinned, source: { kind: 'pinned' } };
  }

  get schema(): DataSchema | undefined {
    return this.current?.schema;
  }

  get source(): SchemaSource | undefined {
    return this.current?.source;
  }

  /** Why `site` cannot join with `announced`, in column terms, or undefined. Changes nothing. */
  problem(site: string, announced: DataSchema | undefined): string | undefined {
    const study = this.current;
    if (!study) return undefined;
    if (!announced) {
      return study.source.kind === 'pinned'
        ? `site ${site} announced no data schema, and the study pins one: give the node its schema (startClient's dataSchema; \`cohort client\` sends it)`
        : undefined;
    }
    const mismatch = schemaMismatch(study.schema, announced);
    if (!mismatch) return undefined;
    const against =
      study.source.kind === 'first-site'
        ? `the study's schema (taken from ${study.source.site}, the first site to join; pin dataSchema in the experiment to decide it)`
        : study.source.kind === 'stored'
          ? "the study's schema (recorded with this run before the coordinator restarted)"
          : "the study's schema";
    return `site ${site}: ${mismatch} against ${against}`;
  }

  /** A resumed run's stored schema becomes the study's again, unless one is pinned. */
  adopt(schema: DataSchema): void {
    if (!this.current) this.current = { schema, source: { kind: 'stored' } };
  }

  /**
   * Checks an authenticated site and, when the study has no schema yet, adopts the site's. Returns the refusal, or
   * `adopted: true` when this site's schema became the study's.
   */
  admit(site: string, announced: DataSchema | undefined): { refusal?: string; adopted: boolean } {
    const refusal = this.problem(site, announced);
    if (refusal) return { refusal, adopted: false };
    if (this.current || !announced) return { adopted: false };
    this.current = { schema: announced, source: { kind: 'first-site', site } };
    return { adopted: true };
  }
}
