"""The campaign's field assessment (创文 实地考察, docs/campaign.md): editions of checklists, inspection points
with their duties (定岗定责), rounds of visits, and the failures that become rectification cases (整改)."""
