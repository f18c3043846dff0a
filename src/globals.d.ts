declare const RSS_VERSION: string;
