DROP TABLE "oauth_connections";
DROP TABLE "users";
