console.log("rss", RSS_VERSION);
