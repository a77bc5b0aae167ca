// Security groups whose ingress rules let the whole internet in: the JavaScript port of
// plugins/sg-internet-accessible, raising byte-for-byte the same issues.
//
// Inside this repository the rule imports the SDK from its source, so `node --test` needs no
// build step; a plugin made by `simian plugin new --lang js` imports `./.simian/js/` instead.

import { defineAuditor, Issue, SecurityGroup } from '../../sdk/js/simian-sdk.js';

export const CHECK_ID = 'internet-accessible';
export const TITLE = 'Internet Accessible';
export const SCORE = 10;

export default defineAuditor({
  checks: [
    {
      id: CHECK_ID,
      title: TITLE,
      score: SCORE,
      description: 'An ingress rule accepts traffic from any address on the internet.',
    },
  ],

  audit(item) {
    const group = item.configuration(SecurityGroup.from);
    /** @type {Issue[]} */
    const issues = [];
    for (const permission of group.ipPermissions) {
      const access = permission.access('ingress');
      for (const cidr of permission.cidrs().filter((c) => c.isOpen())) {
        const notes = `Entity: [cidr:${cidr}] Access: [${access}]`;
        // Two rules with the same protocol and ports would be one issue to the host (notes
        // are part of its identity), so report it once.
        if (issues.some((issue) => issue.notes === notes)) {
          continue;
        }
        issues.push(
          new Issue(CHECK_ID, TITLE, SCORE)
            .withNotes(notes)
            .withRemediation(
              `Restrict the source of ${access} to the addresses that need it instead of ${cidr}, or remove the rule.`,
            ),
        );
      }
    }
    return issues;
  },
});
