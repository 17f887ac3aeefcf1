/**
 * JSON helpers small enough to need no JSON library, shared by every module that writes JSON by
 * hand.
 */
package io.bulwark.config.json;
