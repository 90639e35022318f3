"""The Internet Computer: identities, the HTTP interface's pieces (request ids, hash trees, certificates, BLS),
and the two backends behind ``ports.ManagementPort``: the embedded IC and the network."""
