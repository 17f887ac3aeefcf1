package io.bulwark.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigResolveOptions;
import com.typesafe.config.ConfigSyntax;
import com.typesafe.config.ConfigValueFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Entry point of the config module: reads a HOCON file or string with Typesafe Config,
 * resolves {@code ${?ENV_VAR}} substitutions against the environment, merges the built-in
 * defaults of {@code reference.conf}, validates everything strictly and returns an immutable
 * {@link BulwarkConfig}. Every failure, from a missing file to a misspelt key, is a
 * {@link ConfigValidationException} listing all problems with their full paths, so the
 * {@code validate} command and a reload can print them one per line.
 */
public final class ConfigLoader {
    /** The environment variable the admin token defaults to (CONTRACT §2). */
    public static final String ADMIN_TOKEN_VARIABLE = "BULWARK_ADMIN_TOKEN";


    /** The "path" of problems that belong to a config given as a string rather than a file. */
    static final String STRING_SOURCE = "<config>";

    private ConfigLoader() {
    }

    /** Loads, validates and returns the config in {@code file}. */
    public static BulwarkConfig load(Path file) throws ConfigValidationException {
        String where = file.toString();
        if (!Files.exists(file)) {
            throw single(where, "config file not found");
        }
        if (Files.isDirectory(file)) {
            throw single(where, "is a directory (expected: a HOCON config file)");
        }
        if (!Files.isReadable(file)) {
            throw single(where, "config file is not readable");
        }
        Config parsed;
        try {
            // Always HOCON, whatever the file name ends with; includes resolve relative to the file.
            parsed = ConfigFactory.parseFile(file.toFile(),
                    ConfigParseOptions.defaults().setSyntax(ConfigSyntax.CONF).setAllowMissing(false));
        } catch (ConfigException e) {
            throw single(where, describe(e));
        }
        return build(parsed, System.getenv(), where);
    }

    /** Validates and returns the config in {@code hocon} (tests and the built-in demo config). */
    public static BulwarkConfig parse(String hocon) throws ConfigValidationException {
        return parse(hocon, System.getenv());
    }

    /** Like {@link #parse(String)} with an explicit environment for {@code ${?VAR}} substitutions. */
    static BulwarkConfig parse(String hocon, Map<String, String> env) throws ConfigValidationException {
        Config parsed;
        try {
            parsed = ConfigFactory.parseString(hocon, ConfigParseOptions.defaults().setSyntax(ConfigSyntax.CONF));
        } catch (ConfigException e) {
            throw single(STRING_SOURCE, describe(e));
        }
        return build(parsed, env, STRING_SOURCE);
    }

    /**
     * The effective config as JSON: HOCON key names, durations as HOCON strings ({@code "5s"}),
     * sizes in bytes. With {@code redactSecrets} the admin token reads {@code "<redacted>"}.
     */
    public static String toJson(BulwarkConfig cfg, boolean redactSecrets) {
        return ConfigJson.render(cfg, redactSecrets);
    }

    private static BulwarkConfig build(Config parsed, Map<String, String> env, String where)
            throws ConfigValidationException {
        parsed = withTokenFromEnvironment(parsed, env);
        Config resolved;
        try {
            // Substitutions see the file itself first, then the environment. System properties are
            // deliberately not merged in: they would show up as unknown keys of the checked tree.
            Config envConfig = ConfigValueFactory.fromMap(env).toConfig();
            resolved = parsed.resolveWith(parsed.withFallback(envConfig),
                    ConfigResolveOptions.defaults().setUseSystemEnvironment(false));
        } catch (ConfigException e) {
            throw single(where, describe(e));
        }
        return BulwarkConfigParser.parse(resolved.root(), ReferenceDefaults.get());
    }

    /**
     * The built-in default {@code admin.token = ${?BULWARK_ADMIN_TOKEN}}: a config that does not name a
     * token takes the variable's value when it is set, so a token handed to the container through the
     * environment always protects the admin API. A token in the file wins.
     */
    private static Config withTokenFromEnvironment(Config parsed, Map<String, String> env) {
        String token = env.get(ADMIN_TOKEN_VARIABLE);
        if (token == null || !parsed.hasPath("bulwark") || parsed.hasPathOrNull("bulwark.admin.token")) {
            return parsed;
        }
        try {
            return parsed.withValue("bulwark.admin.token", ConfigValueFactory.fromAnyRef(token,
                    "the environment variable " + ADMIN_TOKEN_VARIABLE));
        } catch (ConfigException e) {
            return parsed; // bulwark or bulwark.admin is not an object: the parser names that path
        }
    }

    /** Typesafe's message without its origin prefix, with the line number where there is one. */
    private static String describe(ConfigException e) {
        String message = String.valueOf(e.getMessage());
        ConfigOrigin origin = e.origin();
        if (origin != null && message.startsWith(origin.description() + ": ")) {
            message = message.substring(origin.description().length() + 2);
            if (origin.lineNumber() >= 0) {
                message = "line " + origin.lineNumber() + ": " + message;
            }
        }
        if (e instanceof ConfigException.IO && e.getCause() != null) {
            message = "cannot read config file: " + e.getCause().getMessage();
        }
        return message;
    }

    private static ConfigValidationException single(String path, String message) {
        return new ConfigValidationException(List.of(new ConfigProblem(path, message)));
    }
}
