DROP TABLE policy_proposals;
