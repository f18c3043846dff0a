declare const RSS_VERSION: string;
/** The dashboard's files (src/ops/page/assets.json), as JSON text; defined by the bundle, undefined when run from source. */
declare const RSS_ASSETS: string | undefined;
