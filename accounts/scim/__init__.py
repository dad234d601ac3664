"""SCIM 2.0 (RFC 7643 / RFC 7644) provisioning at `/scim/v2/o/<org_slug>/`: the protocol only.

filters    a `filter` parameter to a Django Q (scim2-filter-parser), unknown attributes refused
patch      PATCH operations applied to a resource document (the forms Okta and Entra ID send)
resources  discovery documents (schemas from scim2-models), and a membership / team to a resource
views      the endpoints: bearer token of the organization, SCIM error shape, ETags

Writes go through accounts.services.scim; reads through accounts.selectors.scim_* functions.

What maps to what:
* a User resource is a person's membership of the organization (id = the membership's id); the
  User row is global, found by e-mail, so a first push of someone who already has an account
  links them; `userName`, `externalId`, names and e-mails are kept per organization;
* a Group is a team (id = the team's id); an admin may map a group to roles;
* the enterprise extension's `department` puts the member in a department team of that name, and
  the work address's locality (`addresses[type eq "work"].locality`, else the primary address's)
  in a location team of that name; a mover leaves the previous one.
"""
