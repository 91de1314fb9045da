package cli

var tiniPersonality = personality{name: "tini", parse: parseUno, usage: unoUsage}
var dumbInitPersonality = personality{name: "dumb-init", parse: parseUno, usage: unoUsage}
var catatonitPersonality = personality{name: "catatonit", parse: parseUno, usage: unoUsage}
