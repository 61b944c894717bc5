// Creates each service's MongoDB user, or sets its password and roles to what the chart says:
// run by the users Job on every install and upgrade, so it is safe to run any number of times.
// mongosh --nodb --quiet --file users.js, with:
//   MONGO_HOST                 host:port of the server
//   MONGO_ROOT_USERNAME/_PASSWORD  the root user (authenticates against admin)
//   USERS                      JSON: [{ user, db, roles: [{ role, db }], passwordEnv }]
//   <passwordEnv>              each user's password (from the users Secret)
//   WAIT_SECONDS               how long to wait for the server
// No password is ever on a command line or in the output.

const env = process.env;
const required = (name) => {
  const value = env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const users = JSON.parse(required("USERS"));
const missing = users.filter((u) => !env[u.passwordEnv]).map((u) => `${u.user} (${u.passwordEnv})`);
if (missing.length > 0) {
  throw new Error(`no password for: ${missing.join(", ")}; check the users Secret's keys`);
}

const deadline = Date.now() + Number(env.WAIT_SECONDS || "300") * 1000;
let admin;
for (;;) {
  try {
    const connection = new Mongo(`mongodb://${required("MONGO_HOST")}/?directConnection=true`);
    admin = connection.getDB("admin");
    admin.auth(required("MONGO_ROOT_USERNAME"), required("MONGO_ROOT_PASSWORD"));
    break;
  } catch (error) {
    // A wrong root password will not get better by waiting.
    if (error && (error.code === 18 || error.codeName === "AuthenticationFailed")) {
      throw new Error(
        `the root user could not authenticate: the root Secret's password is not the server's ` +
          `(see docs/operations.md, "Rotating the MongoDB root password"): ${error.message}`,
      );
    }
    if (Date.now() > deadline)
      throw new Error(`MongoDB at ${env.MONGO_HOST} did not answer: ${error.message}`);
    print(`waiting for MongoDB: ${error.message}`);
    sleep(2000);
  }
}

for (const { user, db, roles, passwordEnv } of users) {
  const database = admin.getSiblingDB(db);
  const pwd = env[passwordEnv];
  if (database.getUser(user)) {
    database.updateUser(user, { pwd, roles });
    print(`user ${user}@${db}: password and roles set (${roles.map((r) => `${r.role}@${r.db}`).join(", ")})`);
  } else {
    database.createUser({ user, pwd, roles });
    print(`user ${user}@${db}: created (${roles.map((r) => `${r.role}@${r.db}`).join(", ")})`);
  }
}
print("MongoDB users are set up.");
